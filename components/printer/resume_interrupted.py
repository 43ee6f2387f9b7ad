"""Resuming a host print after the host died (crash, kill -9, power cut, upgrade).

While a host print runs, where it is and the G-code state needed to continue are written
to the database (resume_record.py) at a bounded rate: on each layer change, when the
stream stalls (the best moment: nothing is in transit), and at least every
SAVE_INTERVAL seconds; never from the streaming path, and one write at a time, on the
database's own thread (synchronous=FULL: written means on disk). A print that ends in
any way deletes the record; a graceful stop of the server keeps it (an upgrade).

At start-up a record means a print was interrupted. It is announced, never resumed
silently: print_stats says `error` with a message, a console prompt (Klipper RESPOND's
`// action:prompt_*`, which Mainsail and Fluidd show) offers Resume and Discard, and
`printer.print.resume_interrupted` / console `RESUME_INTERRUPTED` do it. Before the first
handshake the link asks the firmware for the last line number it accepted:

* The board kept running (the host crashed, the port did not reset it): the firmware
  ran every line it accepted, so the print continues exactly after that line, once the
  modes, E position, feed rate, factors, fan and heater targets are set again.
* The board was reset (or powered off): its position is lost. After the user confirms
  that the nozzle is still at the print's height (CONFIRM=1): heat to the saved
  targets, set Z to the saved height with G92, lift, home X and Y only (never Z: the
  part is under the nozzle), return over the last position, lower, prime, restore the
  modes and continue from the last saved line.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from components.printer.api import JobFinished, JobStarted, PrinterStateChanged
from components.printer.gcode_state import GcodeState
from components.printer.resume_record import (
    KEY,
    NAMESPACE,
    GcodeSnapshot,
    ResumeRecord,
    decode,
    file_matches,
    resume_point,
    state_at,
)
from gateway.errors import BadRequest, Conflict, NotFound, ServerError
from gateway.registry import Params

if TYPE_CHECKING:
    from components.printer.component import Printer
    from gateway.request import Request

log = logging.getLogger(__name__)

POLL_INTERVAL = 0.5  # how often the saver looks at the print, s
SAVE_INTERVAL = 2.0  # at least this often while the print moves on, s


class ResumeArgs(Params):
    confirm: bool = False  # the nozzle is at the print's height (the board was reset)
    discard: bool = False  # forget the interrupted print


class InterruptedPrint:
    def __init__(self, printer: Printer) -> None:
        self.printer = printer
        self.record: ResumeRecord | None = None  # the print announced at start-up
        self._poll: asyncio.TimerHandle | None = None
        self._writing: asyncio.Task[None] | None = None
        self._saved_offset = -1
        self._saved_at = 0.0
        self._saved_layer: int | None = None
        self._saved_breaks = 0
        self._seen_offset = -1
        self._stopping = False
        server = printer.server
        server.events.subscribe(JobStarted, self._on_started)
        server.events.subscribe(JobFinished, self._on_finished)
        server.events.subscribe(PrinterStateChanged, self._on_printer_state)
        # in the table only: the component lists the commands once it is built
        printer.core.table.register("RESUME_INTERRUPTED", self._command,
                                    "Resume the print the host was running when it stopped")
        server.register_endpoint("printer.print.resume_interrupted", self._endpoint,
                                 params=ResumeArgs,
                                 http="POST /printer/print/resume_interrupted")

    # -- start-up ----------------------------------------------------------------------

    async def load(self) -> None:
        """Before the link connects: an interrupted print is announced, and the link
        learns the firmware's last line number before numbering anything."""
        db = self.printer.server.database
        try:
            record = decode(await db.get_item(NAMESPACE, KEY))
        except NotFound:
            record = None
        if record is None:
            return
        self.record = record
        self.printer.link.probe_on_connect(reset_meatpack=record.meatpack)
        progress = record.acknowledged[1] / record.size if record.size else 0.0
        self.printer.update_object("print_stats", {
            "filename": record.filename, "state": "error", "message": self._message(),
            "print_duration": round(record.print_duration, 3),
            "filament_used": round(record.filament_used, 3),
            "info": {"total_layer": record.total_layers, "current_layer": record.layer}})
        self.printer.update_object("virtual_sdcard", {
            "file_path": record.path, "file_size": record.size, "is_active": False,
            "file_position": record.acknowledged[1], "progress": round(progress, 4)})
        log.warning("print of %s was interrupted at %.0f %%: RESUME_INTERRUPTED resumes it",
                    record.filename, progress * 100)

    def _message(self) -> str:
        record = self.record
        assert record is not None
        layer = f", layer {record.layer}" if record.layer is not None else ""
        pct = 100 * record.acknowledged[1] / record.size if record.size else 0.0
        problem = file_matches(record)
        if problem is not None:
            return (f"Interrupted print of {record.filename} ({pct:.0f} %{layer}) cannot be "
                    f"resumed: {problem}. RESUME_INTERRUPTED DISCARD=1 forgets it.")
        return (f"The host stopped during the print of {record.filename} ({pct:.0f} %{layer}): "
                "RESUME_INTERRUPTED continues it, RESUME_INTERRUPTED DISCARD=1 forgets it.")

    def _board_kept(self) -> bool:
        record = self.record
        link = self.printer.link
        last = link.last_line_before_connect
        return (record is not None and last is not None and not link.restarted_since_open
                and resume_point(record, last) is not None)

    def _on_printer_state(self, event: PrinterStateChanged) -> None:
        if event.state == "ready" and self.record is not None and not self.printer.core.jobs.active:
            self.printer.update_object("print_stats", {"state": "error",
                                                       "message": self._message()})
            self._prompt()

    def _prompt(self) -> None:
        """Klipper's RESPOND prompt, which the frontends show as a dialog."""
        record = self.record
        assert record is not None
        respond = self.printer.respond
        respond("// action:prompt_begin Print interrupted")
        respond(f"// action:prompt_text {self._message()}")
        if file_matches(record) is None:
            if self._board_kept():
                respond("// action:prompt_text The printer kept running: the print "
                        "continues exactly after the last line it took.")
                respond("// action:prompt_button Resume|RESUME_INTERRUPTED|primary")
            else:
                respond(f"// action:prompt_text The printer restarted and lost its position. "
                        f"Check that the nozzle is still at the print's height "
                        f"(Z={record.z:.2f}) and nothing moved: Resume heats, homes X and Y "
                        f"(never Z), sets Z={record.z:.2f} and continues.")
                respond("// action:prompt_button Resume|RESUME_INTERRUPTED CONFIRM=1|primary")
        respond("// action:prompt_button Discard|RESUME_INTERRUPTED DISCARD=1|error")
        respond("// action:prompt_show")

    # -- RESUME_INTERRUPTED ------------------------------------------------------------

    async def _command(self, _name: str, params: dict[str, str]) -> None:
        def flag(key: str) -> bool:
            return params.get(key, "0").strip().lower() in ("1", "true", "yes", "on")

        await self.resume(confirm=flag("CONFIRM"), discard=flag("DISCARD"))

    async def _endpoint(self, args: ResumeArgs, request: Request) -> str:
        await self.resume(confirm=args.confirm, discard=args.discard)
        return "ok"

    async def resume(self, *, confirm: bool, discard: bool) -> None:
        record = self.record
        printer = self.printer
        if record is None:
            raise Conflict("No interrupted print to resume")
        if discard:
            self.record = None
            printer.respond("// action:prompt_end")
            printer.update_object("print_stats", {"state": "standby", "message": ""})
            await self._delete()
            return
        problem = file_matches(record)
        if problem is not None:
            raise Conflict(f"Cannot resume: {problem}")
        if printer.core.jobs.active:
            raise Conflict("A print is in progress")
        if printer.state != "ready":
            raise ServerError(f"Printer not ready: {printer.state_message}", 503)
        if self._board_kept():
            last = printer.link.last_line_before_connect
            assert last is not None
            offset = resume_point(record, last)
            assert offset is not None
            state = state_at(record, offset)
            script = self._kept_script(state)
        else:
            if not confirm:
                raise BadRequest(
                    f"The printer restarted since the print stopped: check that the nozzle "
                    f"is still at Z={record.z:.2f} and run RESUME_INTERRUPTED CONFIRM=1")
            offset = record.acknowledged[1]
            state = record.gcode.state()
            script = self._reset_script(state)
        self.record = None
        printer.respond("// action:prompt_end")
        log.info("resuming %s at byte %d", record.filename, offset)
        await printer.send_firmware(script)
        printer.core.jobs.start(record.filename, Path(record.path), record.total_layers,
                           start_offset=offset, layer=record.layer)
        run = printer.core.jobs.run
        if run is not None:  # the print's figures go on from where they were
            run.started -= record.print_duration
            run.filament_start -= record.filament_used
        printer.changed()

    def _heat(self, state: GcodeState) -> list[str]:
        lines = []
        targets = {k: v for k, v in state.targets.items() if v > 0}
        bed = targets.pop("heater_bed", None)
        tools = {(0 if k == "extruder" else int(k[len("extruder"):])): v
                 for k, v in targets.items()}
        if bed is not None:
            lines.append(f"M140 S{bed:g}")
        lines += [f"M104 T{tool} S{t:g}" for tool, t in tools.items()]
        if bed is not None:
            lines.append(f"M190 S{bed:g}")
        lines += [f"M109 T{tool} S{t:g}" for tool, t in tools.items()]
        return lines

    @staticmethod
    def _modes(state: GcodeState) -> list[str]:
        lines = ["G90" if state.absolute_coordinates else "G91",
                 "M82" if state.absolute_extrude else "M83",
                 f"G92 E{state.position[3]:.5f}",
                 f"M220 S{round(state.speed_factor * 100)}",
                 f"M221 S{round(state.extrude_factor * 100)}",
                 f"M106 S{round(state.fan_speed * 255)}" if state.fan_speed > 0 else "M107",
                 f"G1 F{state.feedrate:.0f}"]
        return lines

    def _kept_script(self, state: GcodeState) -> str:
        """The board kept its position and ran everything it took: set what the print
        relies on again (heaters may have timed out meanwhile) and carry on."""
        lines = self._heat(state)
        if state.active_tool:
            lines.append(f"T{state.active_tool}")
        return "\n".join(lines + self._modes(state))

    def _reset_script(self, state: GcodeState) -> str:
        """The board lost its position: heat, take the confirmed Z, lift, home X and Y
        only, go back over the part, lower, prime, restore the modes."""
        printer = self.printer
        pause, limits = printer.core.setup.pause, printer.core.setup.printer
        x, y, z, _ = state.position
        lift = max(0.0, min(pause.lift_z, limits.z_max - z))
        lines = self._heat(state)
        if state.active_tool:
            lines.append(f"T{state.active_tool}")
        lines += [f"G92 Z{z:.4f}", "G91", f"G1 Z{lift:.4f} F600", "G90", "G28 X Y",
                  f"G1 X{x:.4f} Y{y:.4f} F{pause.park_speed * 60:.0f}", f"G1 Z{z:.4f} F600"]
        if pause.retract_length:
            lines += ["M83", f"G1 E{pause.retract_length:.4f} F{pause.retract_speed * 60:.0f}"]
        return "\n".join(lines + self._modes(state))

    # -- keeping the record --------------------------------------------------------------

    def _on_started(self, event: JobStarted) -> None:
        if event.filename.startswith("sd:") or self.printer.core.jobs.run is None:
            return  # the printer's own SD print: it does not need the host
        if self.record is not None and self.record.filename != event.filename:
            self.record = None  # another print started: the interrupted one is forgotten
        self._saved_offset = self._seen_offset = -1
        self._saved_layer = None
        self._saved_breaks = 0
        if self._poll is None:
            self._poll = asyncio.get_running_loop().call_later(POLL_INTERVAL, self._tick)

    def _on_finished(self, event: JobFinished) -> None:
        if event.filename.startswith("sd:") or self._stopping:
            return
        if self._poll is not None:
            self._poll.cancel()
            self._poll = None
        self.printer.core.spawn(self._delete())

    def _tick(self) -> None:
        self._poll = asyncio.get_running_loop().call_later(POLL_INTERVAL, self._tick)
        run = self.printer.core.jobs.run
        if run is None or not self.printer.core.jobs.active:
            return
        stream = run.stream
        offset, n = stream.acknowledged_position, stream.acknowledged_n
        if n is None or offset == self._saved_offset:
            self._seen_offset = offset
            return
        now = time.monotonic()
        layer = run.layers.layer_at(offset)
        stalled = offset == self._seen_offset  # nothing in transit: an exact moment
        self._seen_offset = offset
        # the numbering stopped following the file one to one (a console command, a
        # macro expanded, an excluded object's moves dropped): save now, so that the lines
        # numbered after the record follow the file again
        breaks = stream.numbering_breaks + run.filter.skipped_moves
        due = (stalled or layer != self._saved_layer or now - self._saved_at >= SAVE_INTERVAL
               or breaks != self._saved_breaks)
        if not due or (self._writing is not None and not self._writing.done()):
            return
        st = run.path.stat()
        gcode = self.printer.core.gcode
        record = ResumeRecord(
            filename=run.filename, path=str(run.path), size=run.size, mtime_ns=st.st_mtime_ns,
            lines=[(n, offset), *stream.in_flight], gcode=GcodeSnapshot.of(gcode),
            layer=layer, total_layers=run.layers.total or run.total_layers,
            print_duration=max(0.0, now - run.started - run.paused_total),
            filament_used=gcode.filament_used - run.filament_start,
            meatpack=self.printer.link.meatpack)
        self._saved_offset, self._saved_at, self._saved_layer = offset, now, layer
        self._saved_breaks = breaks
        self._writing = asyncio.get_running_loop().create_task(self._write(record))

    async def _write(self, record: ResumeRecord) -> None:
        db = self.printer.server.database
        try:
            await db.insert_item(NAMESPACE, KEY, msgspec.to_builtins(record))
        except Exception as exc:  # a full disk must not stop the print
            log.warning("could not save the print's resume point: %s", exc)

    async def _delete(self) -> None:
        if self._writing is not None:
            with contextlib.suppress(Exception):
                await self._writing
        with contextlib.suppress(NotFound):
            await self.printer.server.database.delete_item(NAMESPACE, KEY)

    def adopt(self) -> None:
        """After server.restart the print goes on: keep saving its resume point."""
        if self.printer.core.jobs.active and self._poll is None:
            self._poll = asyncio.get_running_loop().call_later(POLL_INTERVAL, self._tick)

    def close(self) -> None:
        """The server stops: a print still running stays resumable."""
        self._stopping = True
        if self._poll is not None:
            self._poll.cancel()
            self._poll = None
