"""A print from the host: the file streamed through the link (via the stream filter),
its progress in print_stats/virtual_sdcard, and PAUSE/RESUME/CANCEL.

PAUSE and CANCEL answer at once whatever the firmware is doing: the stream stops
feeding immediately; with the emergency parser M108 breaks a heating or user wait and
(for a cancel) M410 drops the planned moves. What needs the firmware (the park moves,
the cancel script) follows in the background as soon as the lines already sent are
acknowledged: a 60 s dwell delays the end of a cancel, never its answer.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components.printer.api import JobFinished, JobPaused, JobResumed, JobStarted
from components.printer.config import PauseResumeSection, PrinterSection
from components.printer.gcode_state import GcodeState
from components.printer.job_reader import LayerTrack, read_commands
from components.printer.park import lift_script, park_script, return_script
from components.printer.stream_filter import StreamFilter
from gateway.errors import Conflict, ServerError
from gateway.events import BusEvent
from gateway.hostlink import HostLink, JobFailed, JobState, LinkError, LinkState, StreamJob

log = logging.getLogger(__name__)

PROGRESS_INTERVAL = 0.25
# how long pause/cancel wait for their firmware part before answering anyway
ANSWER_WITHIN = 0.3


@dataclass
class Run:
    filename: str
    path: Path
    size: int
    stream: StreamJob
    layers: LayerTrack
    filter: StreamFilter
    total_layers: int | None
    started: float = field(default_factory=time.monotonic)
    paused_at: float | None = None
    paused_total: float = 0.0
    saved: GcodeState | None = None
    filament_start: float = 0.0
    state: str = "printing"  # printing | paused | cancelling | complete | cancelled | error
    firmware_paused: bool = False  # the firmware paused itself (M600) and waits for us
    parking: asyncio.Task[None] | None = None
    cancelling: asyncio.Task[None] | None = None


Update = Callable[[str, dict[str, Any]], None]
Read = Callable[[str, str], Any]
Emit = Callable[[BusEvent], None]


class PrintManager:
    def __init__(
        self,
        link: HostLink,
        gcode: GcodeState,
        update: Update,
        read: Read,
        emit: Emit,
        printer_cfg: PrinterSection,
        pause_cfg: PauseResumeSection,
        make_filter: Callable[[Callable[[str], None]], StreamFilter],
        resync_position: Callable[[], Awaitable[None]],
    ) -> None:
        self.link = link
        self.gcode = gcode
        self.update = update
        self.read = read
        self.emit = emit
        self.printer_cfg = printer_cfg
        self.pause_cfg = pause_cfg
        self.make_filter = make_filter
        self.resync_position = resync_position
        self.on_layer: Callable[[int, StreamFilter], None] = lambda _layer, _stream: None
        self.run: Run | None = None
        self._watch_task: asyncio.Task[None] | None = None
        self._ticker: asyncio.TimerHandle | None = None
        self._pending_pause: str | None = None
        self._starting = False

    @property
    def active(self) -> bool:
        return self.run is not None and self.run.state in ("printing", "paused", "cancelling")

    # -- start ---------------------------------------------------------------------

    def start(self, filename: str, path: Path, total_layers: int | None,
              start_offset: int = 0, layer: int | None = None) -> None:
        """Stream `path`, from `start_offset` (a resumed print, at `layer`)."""
        if self.active:
            raise Conflict("A print is already in progress")
        if self.link.state is not LinkState.READY:
            raise ServerError(f"Printer not ready: {self.link.state_message}", 503)
        flt = self.make_filter(self._file_pause)
        layers = LayerTrack(on_layer=lambda layer: self.on_layer(layer, flt))
        if start_offset and layer is not None:
            layers.seed(start_offset, layer)
        self._pending_pause = None
        self._starting = True
        try:
            stream = self.link.stream(
                flt.lines(read_commands(path, start=start_offset, layers=layers)))
        except LinkError as exc:
            raise Conflict(str(exc)) from None
        finally:
            self._starting = False
        size = path.stat().st_size
        run = self.run = Run(filename, path, size, stream, layers, flt, total_layers,
                             filament_start=self.gcode.filament_used)
        self.update("print_stats", {
            "filename": filename, "state": "printing", "message": "",
            "total_duration": 0.0, "print_duration": 0.0, "filament_used": 0.0,
            "info": {"total_layer": total_layers, "current_layer": None},
        })
        self.update("virtual_sdcard", {"file_path": str(path), "is_active": True,
                                       "progress": round(start_offset / size, 4) if size else 0.0,
                                       "file_position": start_offset, "file_size": size})
        self.update("pause_resume", {"is_paused": False})
        self.update("idle_timeout", {"state": "Printing"})
        self.update("display_status", {"progress": 0.0})
        self._watch_task = asyncio.get_running_loop().create_task(self._watch(run))
        self._schedule_tick()
        self.emit(JobStarted(filename))
        if self._pending_pause is not None:
            self._file_pause(self._pending_pause)

    # -- progress ------------------------------------------------------------------

    def _schedule_tick(self) -> None:
        self._ticker = asyncio.get_running_loop().call_later(PROGRESS_INTERVAL, self._tick)

    def _tick(self) -> None:
        self._ticker = None
        run = self.run
        if run is None or run.state not in ("printing", "paused", "cancelling"):
            return
        self.refresh_progress(run)
        self._schedule_tick()

    def refresh_progress(self, run: Run) -> None:
        now = time.monotonic()
        position = run.stream.acknowledged_position
        progress = position / run.size if run.size else 1.0
        paused = run.paused_total + (now - run.paused_at if run.paused_at is not None else 0.0)
        total = now - run.started
        self.update("virtual_sdcard", {"file_position": position,
                                       "progress": round(progress, 4)})
        self.update("print_stats", {
            "total_duration": round(total, 3),
            "print_duration": round(max(0.0, total - paused), 3),
            "filament_used": round(self.gcode.filament_used - run.filament_start, 3),
            "info": {"total_layer": run.layers.total or run.total_layers,
                     "current_layer": run.layers.layer_at(position)},
        })
        if self.gcode.display_progress is None:
            self.update("display_status", {"progress": round(progress, 4)})

    # -- pause / resume ----------------------------------------------------------------

    def _require(self, *states: str) -> Run:
        run = self.run
        if run is None or run.state not in states:
            if run is not None and run.state == "paused" and "printing" in states:
                raise Conflict("Print is already paused")
            if run is not None and run.state == "cancelling":
                raise Conflict("The print is being cancelled")
            raise Conflict("Print is not paused" if states == ("paused",)
                           else "No print in progress")
        return run

    def _file_pause(self, reason: str) -> None:
        """PAUSE met while reading the file (a layer pause): stop feeding right here."""
        if self._starting:
            self._pending_pause = reason  # still inside link.stream(): start() does it
            return
        run = self.run
        if run is not None and run.state == "printing":
            run.stream.hold()
            task = asyncio.get_running_loop().create_task(self.pause(reason))
            task.add_done_callback(_log_failure)

    async def pause(self, reason: str = "") -> None:
        run = self._require("printing")
        run.state = "paused"
        run.paused_at = time.monotonic()
        run.stream.hold()
        if self.link.firmware.has("EMERGENCY_PARSER"):
            # a heat-up wait would hold the lines in flight: break it (RESUME heats again)
            await self._quiet(self.link.emergency("M108"))
        self.update("print_stats", {"state": "paused", "message": reason})
        self.update("pause_resume", {"is_paused": True})
        self.update("idle_timeout", {"state": "Ready"})
        self.emit(JobPaused(run.filename))
        run.parking = asyncio.get_running_loop().create_task(self._park(run))
        await asyncio.wait([run.parking], timeout=ANSWER_WITHIN)

    async def _park(self, run: Run) -> None:
        await run.stream.pause()  # every line sent is acknowledged
        if run.state != "paused" or not run.stream.active:
            return  # the print ended (or is being cancelled) meanwhile
        run.saved = self.gcode.copy()
        await self._quiet(self._send(park_script(run.saved, self.pause_cfg,
                                                 self.printer_cfg)))

    async def resume(self) -> None:
        run = self._require("paused")
        if run.firmware_paused:
            # the firmware waits for the user (M600): let it go on by itself
            await self._quiet(self.link.emergency("M108"))
            self.firmware_resumed()
            return
        if run.parking is not None:
            await run.parking
            run.parking = None
        if run.state != "paused":
            raise Conflict("No print in progress")
        if run.saved is not None:
            temps = {name: self.read(name, "temperature") or 0.0
                     for name in run.saved.targets}
            await self._send(return_script(run.saved, self.pause_cfg, temps))
        self._resumed(run)

    def _resumed(self, run: Run) -> None:
        if run.paused_at is not None:
            run.paused_total += time.monotonic() - run.paused_at
            run.paused_at = None
        run.state = "printing"
        run.saved = None
        run.firmware_paused = False
        self.update("print_stats", {"state": "printing", "message": ""})
        self.update("pause_resume", {"is_paused": False})
        self.update("idle_timeout", {"state": "Printing"})
        run.stream.resume()
        self.emit(JobResumed(run.filename))

    def firmware_paused(self) -> None:
        """`//action:paused`: the firmware paused itself (M600) and waits for the user."""
        run = self.run
        if run is None or run.state != "printing":
            return
        run.state = "paused"
        run.firmware_paused = True
        run.paused_at = time.monotonic()
        self.update("print_stats", {"state": "paused", "message": "Paused by the printer"})
        self.update("pause_resume", {"is_paused": True})
        self.update("idle_timeout", {"state": "Ready"})
        self.emit(JobPaused(run.filename))

    def firmware_resumed(self) -> None:
        run = self.run
        if run is not None and run.state == "paused" and run.firmware_paused:
            self._resumed(run)

    # -- cancel ------------------------------------------------------------------------

    async def cancel(self) -> None:
        run = self._require("printing", "paused")
        was_paused = run.state == "paused" and not run.firmware_paused
        run.state = "cancelling"
        run.stream.hold()
        if self.link.firmware.has("EMERGENCY_PARSER"):
            # out of any heating or user wait at once, and drop the moves planned
            await self._quiet(self.link.emergency("M108"))
            await self._quiet(self.link.emergency("M410"))
        self.update("print_stats", {"state": "cancelling", "message": ""})
        self.update("pause_resume", {"is_paused": False})
        self.update("idle_timeout", {"state": "Printing"})
        run.cancelling = asyncio.get_running_loop().create_task(
            self._finish_cancel(run, was_paused))
        run.cancelling.add_done_callback(_log_failure)
        await asyncio.wait([run.cancelling], timeout=ANSWER_WITHIN)

    async def _finish_cancel(self, run: Run, was_paused: bool) -> None:
        if run.parking is not None:
            await asyncio.wait([run.parking])
        await run.stream.cancel()  # returns once the lines already sent are acknowledged
        if self.link.firmware.has("EMERGENCY_PARSER"):
            await self._quiet(self.link.emergency("M410"))  # what those lines planned
        await self._quiet(self.resync_position())
        if not was_paused:
            await self._quiet(self._send(lift_script(self.gcode.position[2],
                                                     self.pause_cfg, self.printer_cfg)))
        await self._quiet(self._send(self.pause_cfg.cancel_gcode))
        self._finish(run, "cancelled", "")

    # -- the end -----------------------------------------------------------------------

    async def _watch(self, run: Run) -> None:
        try:
            state = await run.stream.done()
        except JobFailed as exc:
            message = str(exc)
            status = "klippy_shutdown" if self.link.state is LinkState.SHUTDOWN else "error"
            self._finish(run, "error", message, status)
            return
        if state is JobState.COMPLETE and run.state == "printing":
            if run.filter.error is not None:
                self._finish(run, "error", run.filter.error)
            else:
                self._finish(run, "complete", "")

    def _finish(self, run: Run, state: str, message: str, status: str | None = None) -> None:
        if run.state in ("complete", "cancelled", "error"):
            return
        self.refresh_progress(run)
        run.state = state
        if state == "complete":
            self.update("virtual_sdcard", {"progress": 1.0, "file_position": run.size})
            self.update("display_status", {"progress": 1.0})
        self.update("virtual_sdcard", {"is_active": False})
        self.update("print_stats", {"state": state, "message": message})
        self.update("pause_resume", {"is_paused": False})
        self.update("idle_timeout", {"state": "Ready"})
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None
        history_status = status or {"complete": "completed", "cancelled": "cancelled"}.get(
            state, "error")
        self.emit(JobFinished(
            run.filename, history_status,
            print_duration=self.read("print_stats", "print_duration"),
            total_duration=self.read("print_stats", "total_duration"),
            filament_used=self.read("print_stats", "filament_used"),
            message=message))
        log.info("print of %s %s%s", run.filename, state, f": {message}" if message else "")

    # -- helpers -------------------------------------------------------------------------

    async def _send(self, script: str) -> None:
        try:
            await self.link.send(script)
        except LinkError as exc:
            raise ServerError(f"Printer refused the pause/resume moves: {exc}", 400) from None

    @staticmethod
    async def _quiet(awaitable: Awaitable[Any]) -> None:
        try:
            await awaitable
        except (LinkError, ServerError) as exc:
            log.warning("while pausing or cancelling: %s", exc)

    def close(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
        if self._watch_task is not None:
            self._watch_task.cancel()
        run = self.run
        for task in (run.parking, run.cancelling) if run is not None else ():
            if task is not None:
                task.cancel()


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("print pause/cancel failed: %s", task.exception())
