"""A print from the host: the file streamed through the link, its progress in
print_stats/virtual_sdcard, and PAUSE/RESUME/CANCEL.

PAUSE stops feeding, waits until every line sent is acknowledged, saves the G-code state,
then retracts, lifts and parks. RESUME travels back over the part at the park height,
lowers to the saved Z, primes, and restores the extrusion mode, E coordinate, coordinate
mode and feedrate before the file continues. The printer then picks up exactly where it
stopped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components.printer.api import JobFinished, JobPaused, JobResumed, JobStarted
from components.printer.config import PauseResumeSection, PrinterSection
from components.printer.gcode_state import GcodeState
from components.printer.job_reader import LayerTrack, read_commands
from gateway.errors import Conflict, ServerError
from gateway.events import EventBus
from gateway.hostlink import HostLink, JobFailed, JobState, LinkError, LinkState, StreamJob

log = logging.getLogger(__name__)

PROGRESS_INTERVAL = 0.25


@dataclass
class Run:
    filename: str
    path: Path
    size: int
    stream: StreamJob
    layers: LayerTrack
    total_layers: int | None
    started: float = field(default_factory=time.monotonic)
    paused_at: float | None = None
    paused_total: float = 0.0
    saved: GcodeState | None = None
    filament_start: float = 0.0
    state: str = "printing"


Update = Callable[[str, dict[str, Any]], None]
Read = Callable[[str, str], Any]


class PrintManager:
    def __init__(
        self,
        link: HostLink,
        gcode: GcodeState,
        update: Update,
        read: Read,
        events: EventBus,
        printer_cfg: PrinterSection,
        pause_cfg: PauseResumeSection,
    ) -> None:
        self.link = link
        self.gcode = gcode
        self.update = update
        self.read = read
        self.events = events
        self.printer_cfg = printer_cfg
        self.pause_cfg = pause_cfg
        self.run: Run | None = None
        self._watch_task: asyncio.Task[None] | None = None
        self._ticker: asyncio.TimerHandle | None = None
        self._busy = asyncio.Lock()

    @property
    def active(self) -> bool:
        return self.run is not None and self.run.state in ("printing", "paused")

    # -- start ---------------------------------------------------------------------

    def start(self, filename: str, path: Path, total_layers: int | None) -> None:
        if self.active:
            raise Conflict("A print is already in progress")
        if self.link.state is not LinkState.READY:
            raise ServerError(f"Printer not ready: {self.link.state_message}", 503)
        layers = LayerTrack()
        try:
            stream = self.link.stream(read_commands(path, layers=layers))
        except LinkError as exc:
            raise Conflict(str(exc)) from None
        size = path.stat().st_size
        self.run = Run(filename, path, size, stream, layers, total_layers,
                       filament_start=self.gcode.filament_used)
        self.update("print_stats", {
            "filename": filename, "state": "printing", "message": "",
            "total_duration": 0.0, "print_duration": 0.0, "filament_used": 0.0,
            "info": {"total_layer": total_layers, "current_layer": None},
        })
        self.update("virtual_sdcard", {"file_path": str(path), "progress": 0.0,
                                       "is_active": True, "file_position": 0,
                                       "file_size": size})
        self.update("pause_resume", {"is_paused": False})
        self.update("idle_timeout", {"state": "Printing"})
        self.update("display_status", {"progress": 0.0})
        self._watch_task = asyncio.get_running_loop().create_task(self._watch(self.run))
        self._schedule_tick()
        self.events.emit(JobStarted(filename))

    # -- progress ------------------------------------------------------------------

    def _schedule_tick(self) -> None:
        self._ticker = asyncio.get_running_loop().call_later(PROGRESS_INTERVAL, self._tick)

    def _tick(self) -> None:
        self._ticker = None
        run = self.run
        if run is None or run.state not in ("printing", "paused"):
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

    # -- pause / resume / cancel -----------------------------------------------------

    async def pause(self, reason: str = "") -> None:
        async with self._busy:
            run = self.run
            if run is None or run.state != "printing":
                raise Conflict("Print is already paused" if run and run.state == "paused"
                               else "No print in progress")
            run.state = "paused"
            run.paused_at = time.monotonic()
            await run.stream.pause()
            run.saved = self.gcode.copy()
            self.update("print_stats", {"state": "paused", "message": reason})
            self.update("pause_resume", {"is_paused": True})
            self.update("idle_timeout", {"state": "Ready"})
            self.events.emit(JobPaused(run.filename))
            await self._send(self._park_script(run.saved))

    async def resume(self) -> None:
        async with self._busy:
            run = self.run
            if run is None or run.state != "paused":
                raise Conflict("Print is not paused")
            if run.saved is not None:
                await self._send(self._return_script(run.saved))
            if run.paused_at is not None:
                run.paused_total += time.monotonic() - run.paused_at
                run.paused_at = None
            run.state = "printing"
            run.saved = None
            self.update("print_stats", {"state": "printing", "message": ""})
            self.update("pause_resume", {"is_paused": False})
            self.update("idle_timeout", {"state": "Printing"})
            run.stream.resume()
            self.events.emit(JobResumed(run.filename))

    async def cancel(self) -> None:
        async with self._busy:
            run = self.run
            if run is None or run.state not in ("printing", "paused"):
                raise Conflict("No print to cancel")
            was_paused = run.state == "paused"
            run.state = "cancelling"
            if self.link.firmware.has("EMERGENCY_PARSER"):
                # break out of a heating wait so the in-flight lines drain at once
                await self._quiet(self.link.emergency("M108"))
            await run.stream.cancel()
            if not was_paused:
                await self._quiet(self._send(self._lift_script()))
            await self._quiet(self._send(self.pause_cfg.cancel_gcode))
            self._finish(run, "cancelled", "")

    async def _watch(self, run: Run) -> None:
        try:
            state = await run.stream.done()
        except JobFailed as exc:
            message = str(exc)
            status = "klippy_shutdown" if self.link.state is LinkState.SHUTDOWN else "error"
            self._finish(run, "error", message, status)
            return
        if state is JobState.COMPLETE and run.state == "printing":
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
        self.events.emit(JobFinished(
            run.filename, history_status,
            print_duration=self.read("print_stats", "print_duration"),
            total_duration=self.read("print_stats", "total_duration"),
            filament_used=self.read("print_stats", "filament_used"),
            message=message))
        log.info("print of %s %s%s", run.filename, state, f": {message}" if message else "")


    # -- scripts -------------------------------------------------------------------

    def _park_script(self, saved: GcodeState) -> str:
        cfg, pcfg = self.pause_cfg, self.printer_cfg
        z = saved.position[2]
        lift = max(0.0, min(cfg.lift_z, pcfg.z_max - z))
        park_x = cfg.park_x if cfg.park_x is not None else pcfg.x_min
        park_y = cfg.park_y if cfg.park_y is not None else pcfg.y_max
        lines = ["M83"]
        if cfg.retract_length:
            lines.append(f"G1 E-{cfg.retract_length:.4f} F{cfg.retract_speed * 60:.0f}")
        lines += [
            "G91",
            f"G1 Z{lift:.4f} F600",
            "G90",
            f"G1 X{park_x:.4f} Y{park_y:.4f} F{cfg.park_speed * 60:.0f}",
        ]
        return "\n".join(lines)

    def _return_script(self, saved: GcodeState) -> str:
        cfg = self.pause_cfg
        x, y, z, e = saved.position
        lines = [
            "G90",
            f"G1 X{x:.4f} Y{y:.4f} F{cfg.park_speed * 60:.0f}",
            f"G1 Z{z:.4f} F600",
            "M83",
        ]
        if cfg.retract_length:
            lines.append(f"G1 E{cfg.retract_length:.4f} F{cfg.retract_speed * 60:.0f}")
        if saved.absolute_extrude:
            lines.append("M82")
        lines.append(f"G92 E{e:.5f}")
        if not saved.absolute_coordinates:
            lines.append("G91")
        lines.append(f"G1 F{saved.feedrate:.0f}")
        return "\n".join(lines)

    def _lift_script(self) -> str:
        z = self.gcode.position[2]
        lift = max(0.0, min(self.pause_cfg.lift_z, self.printer_cfg.z_max - z))
        return f"G91\nG1 Z{lift:.4f} F600\nG90"

    async def _send(self, script: str) -> None:
        try:
            await self.link.send(script)
        except LinkError as exc:
            raise ServerError(f"Printer refused the pause/resume moves: {exc}", 400) from None

    @staticmethod
    async def _quiet(awaitable: Any) -> None:
        try:
            await awaitable
        except (LinkError, ServerError) as exc:
            log.warning("while cancelling: %s", exc)

    def close(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
        if self._watch_task is not None:
            self._watch_task.cancel()
