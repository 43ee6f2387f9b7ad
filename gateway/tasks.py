"""Background tasks a component (or the event bus) starts and must not lose: each is
kept until done (asyncio holds only weak references to tasks), a failure is logged (never
'exception was never retrieved'), and stop() cancels or waits for what is left."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable

log = logging.getLogger(__name__)


class Background:
    def __init__(self, what: str, level: int = logging.ERROR,
                 logger: logging.Logger | None = None, traceback: bool = True) -> None:
        # "timelapse task" -> "timelapse task failed" and the traceback in the log, at
        # `level`; traceback=False: one line, "power: <the exception>"
        self.what = what
        self.level = level
        self.log = logger or log
        self.traceback = traceback
        self._tasks: set[asyncio.Future[object]] = set()

    def __len__(self) -> int:
        return len(self._tasks)

    def spawn(self, awaitable: Awaitable[object]) -> asyncio.Future[object]:
        task: asyncio.Future[object] = asyncio.ensure_future(awaitable)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Future[object]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is None:
            return
        if self.traceback:
            self.log.log(self.level, "%s failed", self.what, exc_info=exc)
        else:
            self.log.log(self.level, "%s: %s", self.what, exc)

    async def wait(self) -> None:
        """Until every task has ended (for a stop that lets them finish)."""
        if self._tasks:
            await asyncio.wait(list(self._tasks))

    def cancel_nowait(self) -> None:
        """Cancel every task; they end on their own (a stop that must not wait)."""
        for task in list(self._tasks):
            task.cancel()

    async def cancel(self) -> None:
        """Cancel every task and wait until they have ended."""
        self.cancel_nowait()
        await self.wait()
