"""Taking one frame: snapshot URL, optional parking, the JPEG into the print's folder,
the `newframe` event.

Parking is PAUSE, then `park_gcode` (if any), `park_settle_time`, the snapshot, RESUME,
all through the printer component's API. PAUSE is what holds the stream between two
lines: it stops feeding, waits until every line sent is acknowledged, saves the G-code
state and parks as [pause_resume] says; RESUME travels back, restores the state and the
file continues exactly where it stopped. Running park moves with `run_gcode` alone while
the file streams would interleave them with the print at an arbitrary line (and the
next printed move would start from the park position), so that is never done.
Without parking the snapshot is fetched while the print goes on; it never waits for us.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from components.printer.api import PrinterApi
from components.timelapse.camera import SnapshotError, Snapshotter
from components.timelapse.config import TimelapseSection
from components.timelapse.frames import FrameSet, write_frame
from gateway.errors import ServerError
from gateway.tasks import Background

log = logging.getLogger(__name__)


Notify = Callable[[dict[str, object]], None]


class Capturer:
    def __init__(self, snapshotter: Snapshotter, notify: Notify,
                 url: Callable[[], Awaitable[str | None]],
                 printer: Callable[[], PrinterApi | None]) -> None:
        self.snapshotter = snapshotter
        self.notify = notify
        self.url = url
        self.printer = printer
        self.frames: FrameSet | None = None
        self.skipped = 0
        self.last_error = ""
        self._busy = False
        self._tasks = Background("timelapse frame", logger=log)

    @property
    def busy(self) -> bool:
        return self._busy

    def fire(self, cfg: TimelapseSection, reason: str, park: bool) -> None:
        """Start a frame in the background; skipped (and logged) while one is under way."""
        if self._busy:
            self._skip(reason, "the previous frame is still being taken")
            return
        self._tasks.spawn(self.take(cfg, reason, park))

    async def drain(self) -> None:
        """Wait for frames under way (each is bounded by the snapshot timeout)."""
        await self._tasks.wait()

    async def take(self, cfg: TimelapseSection, reason: str, park: bool) -> bool:
        frames = self.frames
        if frames is None or self._busy:
            return False
        self._busy = True
        try:
            url = await self.url()
            if url is None:
                self._skip(reason, f"no snapshot URL (camera {cfg.camera or '(any)'!r})")
                return False
            printer = self.printer() if park else None
            if printer is not None:
                return await self._parked(printer, cfg, frames, url, reason)
            if cfg.snapshot_delay:
                await asyncio.sleep(cfg.snapshot_delay)
            return await self._snap(cfg, frames, url, reason)
        finally:
            self._busy = False

    async def _parked(self, printer: PrinterApi, cfg: TimelapseSection, frames: FrameSet,
                      url: str, reason: str) -> bool:
        try:
            await printer.pause_print()
        except ServerError as exc:
            log.info("timelapse: not parking for %s (%s)", reason, exc.message)
            return await self._snap(cfg, frames, url, reason)
        try:
            if cfg.park_gcode.strip():
                try:
                    await printer.run_gcode(cfg.park_gcode)
                except ServerError as exc:
                    log.warning("timelapse: park_gcode failed: %s", exc.message)
            await asyncio.sleep(cfg.park_settle_time)
            return await self._snap(cfg, frames, url, reason)
        finally:
            try:
                await printer.resume_print()
            except ServerError as exc:  # cancelled meanwhile, or resumed by someone
                log.info("timelapse: resume after the frame: %s", exc.message)

    async def _snap(self, cfg: TimelapseSection, frames: FrameSet, url: str,
                    reason: str) -> bool:
        try:
            data = await self.snapshotter.fetch(url, cfg.snapshot_timeout)
            path = frames.next_path()
            await asyncio.to_thread(write_frame, path, data)
        except (SnapshotError, OSError) as exc:
            self._skip(reason, str(exc))
            return False
        frames.added(path.name)
        log.debug("timelapse: frame %d for %s", frames.count, reason)
        self.last_error = ""
        self.notify({"action": "newframe", "frame": str(frames.count),
                     "framefile": path.name, "status": "success"})
        if cfg.gcode_verbose:
            self._respond(f"// timelapse: frame {frames.count} ({reason})")
        return True

    def _skip(self, reason: str, why: str) -> None:
        self.skipped += 1
        self.last_error = why
        log.warning("timelapse: frame for %s skipped: %s", reason, why)
        self.notify({"action": "newframe", "status": "error",
                     "msg": f"frame skipped: {why}"})

    def _respond(self, line: str) -> None:
        printer = self.printer()
        if printer is not None:
            printer.respond(line)
