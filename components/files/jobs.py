"""The file being printed: while a job runs its file (and every folder above it) cannot
be moved, deleted or overwritten: such requests are answered 409."""

from __future__ import annotations

from components.printer.api import JobFinished, JobStarted
from gateway.errors import Conflict
from gateway.events import EventBus


class ActiveJob:
    """Tracks the file being printed from the printer's job events."""

    def __init__(self, events: EventBus) -> None:
        self.filename: str | None = None
        self._unsubscribe = [
            events.subscribe(JobStarted, self._started),
            events.subscribe(JobFinished, self._ended),
        ]

    def close(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()

    def _started(self, event: JobStarted) -> None:
        self.filename = event.filename.lstrip("/")

    def _ended(self, event: JobFinished) -> None:
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
