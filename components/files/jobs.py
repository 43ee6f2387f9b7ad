"""What the files component needs to know about printing, and how it asks for a print.

The printer component (not part of this package) emits on the server's event bus:

* ``job:started(filename)`` - `filename` is the G-code path relative to the gcodes root;
* ``job:finished(...)`` / ``job:ended(...)`` - the job is over (any arguments ignored).

While a job runs its file (and every folder above it) cannot be moved, deleted or
overwritten: such requests are answered 409.
"""

from __future__ import annotations

import inspect
from typing import Any, Protocol, runtime_checkable

from gateway.errors import Conflict
from gateway.events import EventBus

JOB_STARTED = "job:started"
JOB_FINISHED = "job:finished"
JOB_ENDED = "job:ended"


@runtime_checkable
class PrintStarter(Protocol):
    """Implemented by the printer component: start printing gcodes/`filename`."""

    async def start_print(self, filename: str) -> None: ...


def print_starter(component: Any) -> PrintStarter | None:
    """`component` if it offers `async def start_print(filename)`, else None."""
    method = getattr(component, "start_print", None)
    if method is None or not inspect.iscoroutinefunction(method):
        return None
    return component  # type: ignore[no-any-return]


class ActiveJob:
    """Tracks the file being printed from the job events."""

    def __init__(self, events: EventBus) -> None:
        self.filename: str | None = None
        self._unsubscribe = [
            events.subscribe(JOB_STARTED, self._started),
            events.subscribe(JOB_FINISHED, self._ended),
            events.subscribe(JOB_ENDED, self._ended),
        ]

    def close(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()

    def _started(self, filename: str, *_: Any) -> None:
        self.filename = str(filename).lstrip("/")

    def _ended(self, *_: Any) -> None:
        self.filename = None

    def touches(self, root: str, rel: str) -> bool:
        """True if gcodes/`rel` is the printed file or a folder above it."""
        active = self.filename
        if active is None or root != "gcodes":
            return False
        return rel == "" or active == rel or active.startswith(rel.rstrip("/") + "/")

    def check(self, root: str, rel: str) -> None:
        if self.touches(root, rel):
            raise Conflict(f"File currently in use: {self.filename} is being printed")
