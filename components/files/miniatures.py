"""Makes 32x32 miniatures in a worker process.

Decoding and shrinking a PNG in pure Python holds the GIL for tens of milliseconds per
file; on a thread that time is taken from the event loop that feeds the printer. One
worker process, started when first needed and stopped when idle, does it instead."""

from __future__ import annotations

import asyncio
import concurrent.futures
import multiprocessing
from pathlib import Path

from .metadata import ThumbnailInfo, add_miniature

IDLE_SHUTDOWN = 30.0


class MiniatureMaker:
    def __init__(self) -> None:
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None
        self._idle: asyncio.TimerHandle | None = None
        self._running = 0

    async def make(
        self, gcode: Path, thumbnails: list[ThumbnailInfo], mtime_ns: int
    ) -> ThumbnailInfo | None:
        loop = asyncio.get_running_loop()
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
        if self._pool is None:
            # spawn, not fork: forking a process that runs threads is unsafe
            self._pool = concurrent.futures.ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn")
            )
        self._running += 1
        try:
            return await loop.run_in_executor(self._pool, add_miniature, gcode, thumbnails,
                                              mtime_ns)
        finally:
            self._running -= 1
            if self._running == 0:
                self._idle = loop.call_later(IDLE_SHUTDOWN, self.close)

    def close(self) -> None:
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
