"""The printer's long-lived part: the serial link, the model of printer state, the G-code
state, the console and a running print.

It outlives a server generation (`server.restart`), as the listening socket does: the
serial port stays open, so a USB board is not reset and a print goes on. The component
of each generation attaches an `Outlet` (events, notifications, subscriptions); between
two generations events are held and handed to the next one."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Iterable, Mapping
from typing import Any, Protocol

from components.printer import cmd_heaters, cmd_host, cmd_motion
from components.printer.api import GcodeResponse, JobFinished
from components.printer.commands import CommandTable
from components.printer.config import (
    FanGenericSection,
    MacroSection,
    PauseResumeSection,
    PrinterSection,
)
from components.printer.console import Console
from components.printer.exclude_object import ExcludeObjects
from components.printer.gcode_state import GcodeState, split_command
from components.printer.gcode_sync import GcodeSync
from components.printer.layer_pause import LayerPause
from components.printer.limits import Limits
from components.printer.link_events import LinkEvents
from components.printer.objects import initial_objects, limit_fields
from components.printer.outgoing import Outgoing
from components.printer.printjob import PrintManager
from components.printer.sdprint import SdPrint
from components.printer.status import StatusModel
from components.printer.stream_filter import StreamFilter
from gateway.errors import Conflict, ServerError
from gateway.events import BusEvent
from gateway.hostlink import GCodeError, HostLink, LinkError, LinkNotReady, SerialConfig
from gateway.tasks import Background

log = logging.getLogger(__name__)

HELD_EVENTS = 200


class Outlet(Protocol):
    """What a server generation gives the core."""

    def emit(self, event: BusEvent) -> None: ...

    def notify(self, method: str, params: list[Any] | None = None) -> None: ...

    def changed(self) -> None: ...

    def printer_state(self, state: str, message: str) -> None: ...


class HeldOutlet:
    """Between two generations: events wait for the next one (a print that ends
    meanwhile still reaches history); notifications have nobody to go to."""

    def __init__(self) -> None:
        self.events: list[BusEvent] = []

    def emit(self, event: BusEvent) -> None:
        if len(self.events) < HELD_EVENTS:
            self.events.append(event)

    def notify(self, method: str, params: list[Any] | None = None) -> None:
        pass

    def changed(self) -> None:
        pass

    def printer_state(self, state: str, message: str) -> None:
        pass


class PrinterSetup:
    """Everything the core is built from, read from the config of one generation."""

    def __init__(
        self,
        serial: SerialConfig,
        printer: PrinterSection,
        pause: PauseResumeSection,
        macros: dict[str, MacroSection],
        fans: dict[str, FanGenericSection],
        configured: set[str],
    ) -> None:
        self.serial = serial
        self.printer = printer
        self.pause = pause
        self.macros = macros
        self.fans = fans
        self.configured = configured


class PrinterCore:
    def __init__(self, setup: PrinterSetup) -> None:
        self.setup = setup
        self.outlet: Outlet = HeldOutlet()
        self._held: list[BusEvent] = []
        self.link = HostLink(setup.serial)
        self.model = StatusModel()
        self.gcode = GcodeState()
        self.limits = Limits(setup.printer, setup.configured)
        self.table = CommandTable()
        self.state = "disconnected"
        self.state_message = "Printer not connected"
        self.saved_states: dict[str, GcodeState] = {}
        # a [serial] change that waits for the print to end
        self.pending_serial: SerialConfig | None = None
        self._tasks = Background("printer action failed", logging.WARNING, log,
                                 traceback=False)
        self._start_task: asyncio.Task[None] | None = None
        # set on every temperature report and state change (TEMPERATURE_WAIT)
        self.temperatures_seen = asyncio.Event()
        # the host's own questions after a connect (M211, M503) are answered
        self.settled = asyncio.Event()
        # commands the host sent for itself: the firmware's complaints about them stay
        # out of the console
        self.quiet_commands: set[str] = set()
        self.excluder = ExcludeObjects(self.update_object, self.respond)
        self.outgoing = Outgoing(self.limits)
        self.layer_pause = LayerPause(self.update_object)
        self.console = Console(self.link, self.table, self.outgoing, self.gcode,
                               self.emergency_stop, self._console_replies, self.respond)
        self.jobs = PrintManager(self.link, self.gcode, self.update_object, self.model.get,
                                 self.emit, setup.printer, setup.pause, self._make_filter,
                                 self.resync_position)
        self.jobs.on_layer = self.layer_pause.on_layer
        self.sd = SdPrint(self.link, self.update_object, self.emit)
        self.sync = GcodeSync(self.gcode, self.model, self.update_object,
                              lambda: self.jobs.active)
        self.link_events = LinkEvents(self)
        self.link.add_listener(self.link_events.handle)
        self._build_objects()
        self.host_commands = cmd_host.register(self)
        self.heater_commands = cmd_heaters.register(self)
        self.motion_commands = cmd_motion.register(self)

    # -- outlet ------------------------------------------------------------------------

    def attach(self, outlet: Outlet) -> None:
        held = self.outlet
        self.outlet = outlet
        outlet.printer_state(self.state, self.state_message)
        if isinstance(held, HeldOutlet):
            self._held = held.events

    def replay_held(self) -> None:
        """Events of the gap between generations, once every component listens."""
        held, self._held = self._held, []
        for event in held:
            self.outlet.emit(event)

    def detach(self) -> None:
        """The server generation ends; the next one attaches (or close() follows)."""
        self.outlet = HeldOutlet()
        self.table.drop_foreign()

    def emit(self, event: BusEvent) -> None:
        self.outlet.emit(event)
        if isinstance(event, JobFinished):
            self.print_ended()

    def notify(self, method: str, params: list[Any] | None = None) -> None:
        self.outlet.notify(method, params)

    def respond(self, line: str) -> None:
        self.outlet.notify("notify_gcode_response", [line])
        self.outlet.emit(GcodeResponse(line))

    def update_object(self, name: str, fields: Mapping[str, Any]) -> None:
        if self.model.update(name, fields):
            self.outlet.changed()

    def set_state(self, state: str, message: str) -> None:
        self.state, self.state_message = state, message
        self.outlet.printer_state(state, message)

    # -- the objects that come from the config -------------------------------------------

    def _build_objects(self) -> None:
        s = self.setup
        for name, fields in initial_objects(s.printer, s.pause, s.macros, s.fans).items():
            self.model.add_object(name, fields)
        self.table.macros = {name: (m.gcode, m.description) for name, m in s.macros.items()}
        self.publish_limits()

    def reconfigure(self, setup: PrinterSetup) -> None:
        """A new server generation with (perhaps) a changed config: what the config
        describes is rebuilt; the link, the print and the printer's state stay."""
        keep = {"webhooks", "print_stats", "virtual_sdcard", "display_status",
                "pause_resume", "idle_timeout", "toolhead", "gcode_move", "motion_report",
                "fan", "exclude_object"}
        saved = {name: self.model.object(name) for name in keep if self.model.has(name)}
        for name in self.model.names():
            self.model.remove_object(name)
        serial = self.setup.serial
        self.setup = setup
        setup.serial = serial  # the link in use keeps its settings
        self.limits.cfg = setup.printer
        self._build_objects()
        for name, fields in saved.items():
            self.model.update(name, fields)
        self.jobs.printer_cfg, self.jobs.pause_cfg = setup.printer, setup.pause
        self.publish_limits()

    def publish_limits(self) -> None:
        config, settings, toolhead = limit_fields(self.limits.axes.minimum,
                                                  self.limits.axes.maximum)
        current = self.model.object("configfile")
        for name, fields in config.items():
            current["config"].setdefault(name, {}).update(fields)
        for name, fields in settings.items():
            current["settings"].setdefault(name, {}).update(fields)
        self.update_object("configfile", {"config": current["config"],
                                          "settings": current["settings"]})
        self.update_object("toolhead", toolhead)

    def config_pending(self, items: dict[str, dict[str, str]]) -> None:
        """configfile.save_config_pending: what SAVE_CONFIG would store."""
        self.update_object("configfile", {"save_config_pending": bool(items),
                                          "save_config_pending_items": items})

    def warn_limits(self, warning: str | None) -> None:
        """configfile.warnings (Fluidd's and Mainsail's warning cards) names a config
        that disagrees with the firmware."""
        current = self.model.get("configfile", "warnings", [])
        others = [w for w in current if not w.get("message", "").startswith("[printer] axis")]
        wanted = others + ([{"type": "runtime_warning", "message": warning}]
                           if warning else [])
        if wanted != current:
            self.update_object("configfile", {"warnings": wanted})

    # -- life cycle ------------------------------------------------------------------

    def start(self) -> None:
        # the link connects in the background: the API answers (503 for printer.*) meanwhile
        self._start_task = asyncio.get_running_loop().create_task(self._connect())

    async def _connect(self) -> None:
        try:
            await self.link.start()
        except (TimeoutError, LinkError, OSError) as exc:
            log.warning("printer link did not come up: %s", exc)

    async def close(self) -> None:
        if self._start_task is not None:
            self._start_task.cancel()
            await asyncio.wait([self._start_task])
        self._tasks.cancel_nowait()
        self.jobs.close()
        self.sd.close()
        self.sync.close()
        await self.link.stop()

    def spawn(self, coro: Coroutine[object, object, object]) -> None:
        self._tasks.spawn(coro)

    def print_ended(self) -> None:
        """The print is over: a [serial] change that waited for it is applied now."""
        if self.pending_serial is not None and not self.busy:
            serial, self.pending_serial = self.pending_serial, None
            self.spawn(self.replace_link(serial))

    async def replace_link(self, serial: SerialConfig) -> None:
        log.info("printer: reconnecting with the changed [serial] section")
        await self.link.stop()
        link = HostLink(serial)
        link.add_listener(self.link_events.handle)
        self.setup.serial = serial
        self.link = self.console.link = self.jobs.link = self.sd.link = link
        await self._connect()

    @property
    def busy(self) -> bool:
        return self.jobs.active or self.sd.active

    # a print from the host or from the printer's SD card: the same three verbs
    async def pause_print(self) -> None:
        await (self.sd.pause() if self.sd.active else self.jobs.pause())

    async def resume_print(self) -> None:
        await (self.sd.resume() if self.sd.active else self.jobs.resume())

    async def cancel_print(self) -> None:
        await (self.sd.cancel() if self.sd.active else self.jobs.cancel())

    # -- talking to the firmware -------------------------------------------------------

    async def firmware(self, script: str) -> list[str]:
        """Lines a host command sends: one at a time, errors as API errors."""
        try:
            return await self.link.send(script, lockstep=True)
        except LinkNotReady as exc:
            raise ServerError(str(exc), 503) from None
        except GCodeError as exc:
            raise ServerError(str(exc), 400) from None
        except LinkError as exc:
            raise ServerError(str(exc), 400) from None

    async def query(self, command: str) -> list[str] | None:
        """A command the host sends for itself (M211, M114): None if refused; the
        console hears nothing of it."""
        word = split_command(command)[0]
        self.quiet_commands.add(word)
        try:
            return await self.link.send(command)
        except LinkError:
            return None
        finally:
            self.quiet_commands.discard(word)

    async def wait_for_temperature(self, reached: Callable[[], bool]) -> None:
        while not reached():
            if self.state != "ready":
                raise ServerError(f"Printer is not ready: {self.state_message}", 503)
            self.temperatures_seen.clear()
            await self.temperatures_seen.wait()

    async def resync_position(self) -> None:
        """Take the firmware's own position (after M410 dropped moves)."""
        self.link_events.resync_position = True
        await self.query("M114")

    async def emergency_stop(self) -> None:
        try:
            await self.link.emergency("M112")
        except LinkError as exc:
            raise Conflict(f"Emergency stop could not be sent: {exc}") from None

    async def firmware_restart(self) -> None:
        """Reset the board (DTR, as the USB auto-reset does; the virtual printer's own
        reset) and re-run the handshake. Never M997, which would flash firmware."""
        if self.jobs.active:
            raise Conflict("A print is in progress; cancel it before a firmware restart")
        await self.link.firmware_restart()
        self.clear_job()

    async def restart(self) -> None:
        """RESTART: reconnect to the printer (the port is opened again)."""
        if self.busy:
            raise Conflict("A print is in progress; cancel it before a restart")
        await self.link.stop()
        self.clear_job()
        self._start_task = asyncio.get_running_loop().create_task(self._connect())

    def clear_job(self) -> None:
        """print_stats back to standby: the finished job card can be cleared."""
        if self.busy:
            raise Conflict("A print is in progress")
        self.update_object("print_stats", {
            "filename": "", "state": "standby", "message": "", "total_duration": 0.0,
            "print_duration": 0.0, "filament_used": 0.0,
            "info": {"total_layer": None, "current_layer": None}})
        self.update_object("virtual_sdcard", {"file_path": None, "progress": 0.0,
                                              "is_active": False, "file_position": 0,
                                              "file_size": 0})
        self.update_object("display_status", {"progress": 0.0})
        self.update_object("pause_resume", {"is_paused": False})
        self.excluder.reset()

    def firmware_started(self) -> None:
        """The firmware (re)booted: its modes, targets and offsets are its defaults."""
        self.gcode.reset()
        self.sync.forget_targets()
        self.saved_states.clear()
        self.limits.firmware_restarted()
        for name in self.model.get("heaters", "available_heaters", []):
            self.update_object(name, {"target": 0.0, "power": 0.0})
        self.sync.schedule()

    def link_ready(self, generation: int) -> None:
        self.settled.clear()
        self.spawn(self._settle(generation))

    async def _settle(self, generation: int) -> None:
        """The host's own questions after a connect, answered before 'ready' is
        announced so nothing a client sends at ready comes between them: M211 (soft
        endstops; not every build has them: no answer is fine), M503 (feed rates,
        accelerations, home offset, linear advance) and, unless a temperature report came
        meanwhile, an M105 (so the firmware's sensors exist when frontends subscribe).
        M115's capabilities are part of the link's handshake."""
        try:
            await self.query("M211")
            await self.query("M503")
            if not self.link_events.temperature_reports:
                await self.query("M105")
        finally:
            self.settled.set()
            self.link_events.announce_ready(generation)

    def _make_filter(self, pause: Callable[[str], None]) -> StreamFilter:
        return StreamFilter(self.outgoing, self.table, self.excluder, self.gcode,
                            self.respond, pause, room=self.link.command_room)

    # -- console -----------------------------------------------------------------------

    def _console_replies(self, script: str, replies: list[str]) -> None:
        for line in replies:
            self.respond(line)
        self.sd.on_script(script, replies)
        if not replies and split_command(script.splitlines()[-1])[0] == "M105":
            self.respond(self._temperature_line())

    def _temperature_line(self) -> str:
        parts = []
        for name in self.model.get("heaters", "available_heaters", []):
            label = "B" if name == "heater_bed" else "T" + name[len("extruder"):]
            if label == "T":
                label = "T0"
            temp = self.model.get(name, "temperature", 0.0)
            target = self.model.get(name, "target", 0.0)
            parts.append(f"{label}:{temp:.1f} /{target:.1f}")
        return "ok " + " ".join(parts)

    def query_status(self, objects: Mapping[str, Iterable[str] | None]) -> dict[str, Any]:
        self.sync.sync()
        return self.model.query(objects)
