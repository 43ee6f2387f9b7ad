"""G-code from OctoPrint commands, through `PrinterApi.run_gcode`, in arrival order.

OctoPrint answers a command once it is queued. We wait a little for it to run, so a
firmware error can still be answered (400) and a quick command has taken effect when the
reply arrives; a slow one (homing, a heat-up wait) goes on in the background and the
request is answered 204 meanwhile. Scripts run one at a time in the order they came.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from gateway.errors import ServerError

log = logging.getLogger(__name__)

GRACE = 5.0


class GcodeRunner:
    def __init__(self, grace: float = GRACE) -> None:
        self.grace = grace
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[object]] = set()

    async def submit(self, action: Callable[[], Awaitable[None]], *, ordered: bool = True,
                     grace: float | None = None) -> None:
        """Run `action` (in order with the others unless `ordered` is False); return when
        it is done or after the grace time, raising its error if it failed by then."""
        task = asyncio.get_running_loop().create_task(
            self._ordered(action) if ordered else self._call(action)
        )
        self._tasks.add(task)
        task.add_done_callback(self._done)
        done, _ = await asyncio.wait({task}, timeout=self.grace if grace is None else grace)
        if task in done:
            task.result()

    async def _ordered(self, action: Callable[[], Awaitable[None]]) -> None:
        async with self._lock:
            await action()

    @staticmethod
    async def _call(action: Callable[[], Awaitable[None]]) -> None:
        await action()

    def _done(self, task: asyncio.Task[object]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if isinstance(exc, ServerError):
            log.info("OctoPrint command failed: %s", exc.message)
        elif exc is not None:
            log.warning("OctoPrint command failed: %r", exc)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task
