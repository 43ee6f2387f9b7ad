"""The printer component of one server generation: the printer's API (printer.*, the
PrinterApi other components use), subscriptions, and the wiring of the long-lived core
(core.py) to this generation's events and notifications.

`server.restart` keeps the core — the serial port stays open and a running print goes
on. Only a changed [serial] section connects again, and not while a print runs: then
the change waits for the print's end."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from components.files.api import FilesApi
from components.printer import endpoints
from components.printer.api import (
    CommandHandler,
    GcodeCommand,
    GcodeResponse,
    MeshReport,
    NotHomed,
    PrinterApi,
    SdCardState,
    SerialPort,
)
from components.printer.config import (
    PauseResumeSection,
    PrinterSection,
    load_fans,
    load_macros,
)
from components.printer.core import PrinterCore, PrinterSetup
from components.printer.line_fit import scan_file
from components.printer.mcu import mcu_status
from components.printer.resume_interrupted import InterruptedPrint
from components.printer.status import StatusModel
from components.printer.subscriptions import SubscriptionHub
from components.printer.temperatures import Reading
from gateway.component import BaseComponent
from gateway.errors import Conflict
from gateway.events import BusEvent, WebsocketDisconnected
from gateway.gcode_text import script_lines
from gateway.hostlink import HostLink, LinkState, SerialConfig
from gateway.hostlink.protocol.mesh import asks_for_homing, parse_report
from gateway.hostlink.protocol.parsing import parse_psu_state

if TYPE_CHECKING:
    from gateway.api import ServerApi

log = logging.getLogger(__name__)

STATS_INTERVAL = 1.0
# the first Marlin that answers `M80 S` with the PSU state instead of switching it on
M80_S_SINCE = (2, 0, 9)
CARRY_NAME = "printer"


def read_setup(server: ServerApi) -> PrinterSetup:
    cfg = server.config
    return PrinterSetup(
        serial=cfg.section("serial", SerialConfig),
        printer=cfg.section("printer", PrinterSection),
        pause=cfg.section("pause_resume", PauseResumeSection),
        macros=load_macros(cfg),
        fans=load_fans(cfg),
        configured=set(cfg.raw("printer")) if cfg.has_section("printer") else set(),
    )


class Printer(BaseComponent, PrinterApi):
    moonraker_names = ("klippy_connection", "klippy_apis")

    def __init__(self, server: ServerApi) -> None:
        self.server = server
        setup = read_setup(server)
        self._old: PrinterCore | None = None
        kept = server.carry.take(CARRY_NAME)
        self.adopted = isinstance(kept, PrinterCore)
        if isinstance(kept, PrinterCore):
            if kept.setup.serial != setup.serial and not kept.busy:
                self._old, self.adopted = kept, False  # a new link, once the old is closed
            else:
                if kept.setup.serial != setup.serial:
                    kept.pending_serial = setup.serial
                    server.warnings.append("[serial] changed while printing: the printer "
                                           "connects again when the print ends")
                kept.reconfigure(setup)
        self.core = kept if isinstance(kept, PrinterCore) and self.adopted \
            else PrinterCore(setup)
        self.hub = SubscriptionHub(self.core.model)
        self._stats_timer: asyncio.TimerHandle | None = None
        self.core.host_commands.start_print = self.start_print
        self.core.attach(self)
        self.interrupted = InterruptedPrint(self)
        # no push yet: nobody subscribed (and there may be no event loop yet)
        self.core.model.update("gcode", {"commands": self._command_list()})
        server.events.subscribe(WebsocketDisconnected,
                                lambda e: self.hub.unsubscribe(e.connection))
        endpoints.register(server, self)

    # -- Outlet (what the core calls) ---------------------------------------------------

    def emit(self, event: BusEvent) -> None:
        self.server.events.emit(event)

    def notify(self, method: str, params: list[Any] | None = None) -> None:
        self.server.send_notification(method, params)

    def changed(self) -> None:
        self.hub.changed()

    def printer_state(self, state: str, message: str) -> None:
        self.server.set_printer_state(state != "disconnected", state, message)

    # -- what endpoints and tests reach -----------------------------------------------

    @property
    def link(self) -> HostLink:
        return self.core.link

    @property
    def model(self) -> StatusModel:
        return self.core.model

    @property
    def have_temperatures(self) -> bool:
        return self.core.link_events.have_temperatures

    def help(self) -> dict[str, str]:
        return self.core.table.help()

    # -- PrinterApi ------------------------------------------------------------------

    @property
    def state(self) -> str:
        return self.core.state

    @property
    def state_message(self) -> str:
        return self.core.state_message

    @property
    def serial_port(self) -> SerialPort:
        serial = self.core.setup.serial
        return SerialPort(serial.port, serial.baud)

    def has_capability(self, name: str) -> bool:
        """Whether the firmware reported `Cap:<name>:1` in its M115 answer."""
        return self.link.firmware.has(name)

    def query_status(
        self, objects: Mapping[str, Iterable[str] | None]
    ) -> dict[str, dict[str, Any]]:
        return self.core.query_status(objects)

    async def send_firmware(self, script: str) -> list[str]:
        """Firmware lines straight to the link, with the replies; link errors become
        API errors (503 not connected, 400 refused by the firmware)."""
        return await self.core.firmware(script)

    async def read_mesh(self, script: str) -> MeshReport | None:
        # the replies reach the console as they arrive; the mesh is read from them
        lines: list[str] = []
        unsubscribe = self.server.events.subscribe(GcodeResponse,
                                                   lambda e: lines.append(e.line))
        try:
            await self.run_gcode(script)
        finally:
            unsubscribe()
        if asks_for_homing(lines):
            raise NotHomed("the printer must be homed first")
        return parse_report(lines)

    async def power_supply_state(self) -> bool | None:
        version = self.link.firmware.marlin_version
        if version is None or version < M80_S_SINCE:
            return None  # M80 S would switch the supply on there
        for line in await self.send_firmware("M80 S"):
            state = parse_psu_state(line)
            if state is not None:
                return state
        return None

    def check_gcode(self, script: str) -> None:
        script_lines(script)
        self.core.console.check(script)

    async def run_gcode(self, script: str) -> None:
        script_lines(script)  # refuses odd line breaks before anyone hears of the script
        self.core.console.check(script)
        self.server.events.emit(GcodeCommand(script))
        await self.core.console.run(script)

    async def start_print(self, filename: str) -> None:
        files = self.server.find(FilesApi)
        if files is None:
            raise Conflict("No file manager loaded")
        path = files.gcode_path(filename)
        metadata = await files.get_metadata(filename) or {}
        layers = metadata.get("layer_count")
        core = self.core
        if path.is_file():
            # a line the firmware could not take refuses the file now, not mid-print
            await asyncio.to_thread(scan_file, path, core.link.command_room)
        core.excluder.reset()
        core.layer_pause.print_started()
        core.jobs.start(filename, path, layers if isinstance(layers, int) else None)
        self.hub.changed()

    async def pause_print(self) -> None:
        await self.core.pause_print()

    async def resume_print(self) -> None:
        await self.core.resume_print()

    async def cancel_print(self) -> None:
        await self.core.cancel_print()

    async def connect(self) -> None:
        """Open the serial link again after disconnect() (or retry a failed one)."""
        if self.link.state is LinkState.DISCONNECTED:
            await self.link.stop()
            self.core.start()

    async def disconnect(self) -> None:
        """Close the serial link (the port is free for other tools); prints stop."""
        if self.core.busy:
            raise Conflict("A print is in progress; cancel it before disconnecting")
        await self.link.stop()

    async def emergency_stop(self) -> None:
        await self.core.emergency_stop()

    async def firmware_restart(self) -> None:
        await self.core.firmware_restart()

    async def restart(self) -> None:
        await self.core.restart()

    def filament_extruded(self) -> float:
        return self.core.gcode.extruded

    def register_command(self, name: str, handler: CommandHandler, description: str) -> None:
        self.core.table.register(name, handler, description)
        self.core.update_object("gcode", {"commands": self._command_list()})

    def unregister_command(self, name: str) -> None:
        self.core.table.unregister(name)
        self.core.update_object("gcode", {"commands": self._command_list()})

    def add_object(self, name: str, fields: dict[str, Any]) -> None:
        self.core.model.add_object(name, fields)
        self.hub.changed()

    def update_object(self, name: str, fields: Mapping[str, Any]) -> None:
        self.core.update_object(name, fields)

    def respond(self, line: str) -> None:
        self.core.respond(line)

    def sd_card(self) -> SdCardState:
        return self.core.sd.card

    def add_config_section(
        self, name: str, config: dict[str, str], settings: dict[str, Any]
    ) -> None:
        current = self.model.object("configfile")
        current["config"][name] = dict(config)
        current["settings"][name.lower()] = dict(settings)
        self.update_object("configfile", {"config": current["config"],
                                          "settings": current["settings"]})

    def _command_list(self) -> dict[str, dict[str, str]]:
        return {name: {"help": text} for name, text in self.core.table.help().items()}

    # -- temperature_store's source --------------------------------------------------

    def temperature_sensors(self) -> dict[str, Reading] | None:
        if self.state == "disconnected" or not self.have_temperatures:
            return None
        out: dict[str, Reading] = {}
        model = self.model
        for name in model.get("heaters", "available_sensors", []):
            if model.has(name):
                out[name] = Reading(
                    model.get(name, "temperature", 0.0),
                    model.get(name, "target"),
                    model.get(name, "power"),
                )
        return out

    # -- life cycle ------------------------------------------------------------------

    async def start(self) -> None:
        if self._old is not None:
            old, self._old = self._old, None
            await old.close()  # the port is free before the new link opens it
        if not self.adopted:
            await self.interrupted.load()  # a print the host was running when it stopped
            self.core.start()
        else:
            self.interrupted.adopt()  # a print running on across server.restart
        self.core.replay_held()
        self._tick_stats()

    def _tick_stats(self) -> None:
        """idle_timeout's printing_time and the link's `mcu` figures, once a second (the
        machine component keeps system_stats)."""
        self._stats_timer = asyncio.get_running_loop().call_later(STATS_INTERVAL,
                                                                  self._tick_stats)
        self.update_object("mcu", mcu_status(self.link))
        run = self.core.jobs.run
        if run is not None and self.core.jobs.active:
            self.update_object("idle_timeout", {
                "printing_time": round(time.monotonic() - run.started, 1)})

    async def stop(self) -> None:
        self.interrupted.close()
        if self._stats_timer is not None:
            self._stats_timer.cancel()
        self.hub.close()
        if self._old is not None:
            await self._old.close()
        if self.server.restart_requested:
            # the next generation takes the link and the print over
            self.core.detach()
            self.server.carry.put(CARRY_NAME, self.core, self.core.close)
        else:
            await self.core.close()


def load_component(server: ServerApi) -> Printer:
    return Printer(server)
