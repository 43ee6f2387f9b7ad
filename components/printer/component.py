"""The printer component: owns the host link, keeps the one model of printer state,
and serves printer.* (see api.py for what other components may use)."""

from __future__ import annotations

import asyncio
import contextlib
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
    PrinterApi,
    SerialPort,
)
from components.printer.config import (
    PauseResumeSection,
    PrinterSection,
    load_macros,
)
from components.printer.console import Console
from components.printer.gcode_state import GcodeState, split_command
from components.printer.gcode_sync import GcodeSync
from components.printer.link_events import LinkEvents
from components.printer.objects import initial_objects
from components.printer.printjob import PrintManager
from components.printer.sdprint import SdPrint
from components.printer.status import StatusModel
from components.printer.subscriptions import SubscriptionHub
from components.printer.temperatures import Reading
from gateway.component import BaseComponent
from gateway.errors import BadRequest, Conflict, ServerError
from gateway.events import WebsocketDisconnected
from gateway.hostlink import HostLink, LinkError, LinkNotReady, LinkState, SerialConfig

if TYPE_CHECKING:
    from gateway.api import ServerApi

log = logging.getLogger(__name__)

STATS_INTERVAL = 1.0


class Printer(BaseComponent, PrinterApi):
    moonraker_names = ("klippy_connection", "klippy_apis")

    def __init__(self, server: ServerApi) -> None:
        self.server = server
        cfg = server.config
        self.serial_cfg = cfg.section("serial", SerialConfig)
        self.printer_cfg = cfg.section("printer", PrinterSection)
        self.pause_cfg = cfg.section("pause_resume", PauseResumeSection)
        macros = load_macros(cfg)
        self.link = HostLink(self.serial_cfg)
        self.model = StatusModel()
        for name, fields in initial_objects(self.printer_cfg, self.pause_cfg, macros).items():
            self.model.add_object(name, fields)
        self.model.take_changes()
        self.hub = SubscriptionHub(self.model)
        self.gcode = GcodeState()
        self.console = Console(self.link, self.emergency_stop, self._console_replies)
        self.console.macros = {name: macro.gcode for name, macro in macros.items()}
        self.jobs = PrintManager(self.link, self.gcode, self.update_object, self.model.get,
                                 server.events, self.printer_cfg, self.pause_cfg)
        self.sd = SdPrint(self.link, self.update_object, server.events)
        self._state = "disconnected"
        self._state_message = "Printer not connected"
        self.sync = GcodeSync(self.gcode, self.model, self.update_object,
                              lambda: self.jobs.active)
        self.link_events = LinkEvents(self)
        self._stats_timer: asyncio.TimerHandle | None = None
        self._start_task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._register_host_commands()
        self.link.add_listener(self.link_events.handle)
        server.events.subscribe(WebsocketDisconnected,
                                lambda e: self.hub.unsubscribe(e.connection))
        server.set_printer_state(False, "disconnected", self._state_message)
        endpoints.register(server, self)

    # -- PrinterApi ------------------------------------------------------------------

    @property
    def state(self) -> str:
        return self._state

    @property
    def state_message(self) -> str:
        return self._state_message

    @property
    def serial_port(self) -> SerialPort:
        return SerialPort(self.serial_cfg.port, self.serial_cfg.baud)

    @property
    def have_temperatures(self) -> bool:
        return self.link_events.have_temperatures

    def set_state(self, state: str, message: str) -> None:
        """webhooks.state as the link events decided it; the server reports it too."""
        self._state, self._state_message = state, message
        self.server.set_printer_state(state != "disconnected", state, message)

    def query_status(
        self, objects: Mapping[str, Iterable[str] | None]
    ) -> dict[str, dict[str, Any]]:
        self.sync.sync()
        return self.model.query(objects)

    async def send_firmware(self, script: str) -> list[str]:
        """Firmware lines straight to the link, with the replies; link errors become
        API errors (503 not connected, 400 refused by the firmware)."""
        try:
            return await self.link.send(script)
        except LinkNotReady as exc:
            raise ServerError(str(exc), 503) from None
        except LinkError as exc:
            raise ServerError(str(exc), 400) from None

    def has_capability(self, name: str) -> bool:
        """Whether the firmware reported `Cap:<name>:1` in its M115 answer."""
        return self.link.firmware.has(name)

    async def run_gcode(self, script: str) -> None:
        self.server.events.emit(GcodeCommand(script))
        await self.console.run(script)

    async def start_print(self, filename: str) -> None:
        files = self.server.find(FilesApi)
        if files is None:
            raise Conflict("No file manager loaded")
        path = files.gcode_path(filename)
        metadata = await files.get_metadata(filename) or {}
        layers = metadata.get("layer_count")
        self.jobs.start(filename, path, layers if isinstance(layers, int) else None)
        self.hub.changed()

    # a print from the host or from the printer's SD card: the same three verbs
    async def pause_print(self) -> None:
        await (self.sd.pause() if self.sd.active else self.jobs.pause())

    async def resume_print(self) -> None:
        await (self.sd.resume() if self.sd.active else self.jobs.resume())

    async def cancel_print(self) -> None:
        await (self.sd.cancel() if self.sd.active else self.jobs.cancel())

    async def connect(self) -> None:
        """Open the serial link again after disconnect() (or retry a failed one)."""
        if self.link.state is LinkState.DISCONNECTED:
            await self.link.stop()
            await self._connect()

    async def disconnect(self) -> None:
        """Close the serial link (the port is free for other tools); prints stop."""
        if self.jobs.active or self.sd.active:
            raise Conflict("A print is in progress; cancel it before disconnecting")
        await self.link.stop()

    def register_command(self, name: str, handler: CommandHandler, description: str) -> None:
        self.console.register(name, handler, description)
        self.update_object("gcode", {"commands": self._command_list()})

    def unregister_command(self, name: str) -> None:
        self.console.unregister(name)
        self.update_object("gcode", {"commands": self._command_list()})

    def add_object(self, name: str, fields: dict[str, Any]) -> None:
        self.model.add_object(name, fields)
        self.hub.changed()

    def update_object(self, name: str, fields: Mapping[str, Any]) -> None:
        if self.model.update(name, fields):
            self.hub.changed()

    def add_config_section(
        self, name: str, config: dict[str, str], settings: dict[str, Any]
    ) -> None:
        current = self.model.object("configfile")
        current["config"][name] = dict(config)
        current["settings"][name.lower()] = dict(settings)
        self.update_object("configfile", {"config": current["config"],
                                          "settings": current["settings"]})

    # -- temperature_store's source --------------------------------------------------

    def temperature_sensors(self) -> dict[str, Reading] | None:
        if self._state == "disconnected" or not self.have_temperatures:
            return None
        out: dict[str, Reading] = {}
        for name in self.model.get("heaters", "available_sensors", []):
            if self.model.has(name):
                out[name] = Reading(
                    self.model.get(name, "temperature", 0.0),
                    self.model.get(name, "target"),
                    self.model.get(name, "power"),
                )
        return out

    # -- life cycle ------------------------------------------------------------------

    async def start(self) -> None:
        # the link connects in the background: the API answers (503 for printer.*) meanwhile
        self._start_task = asyncio.get_running_loop().create_task(self._connect())
        self._tick_stats()

    def _tick_stats(self) -> None:
        """idle_timeout's printing_time, once a second (the machine component keeps
        system_stats)."""
        self._stats_timer = asyncio.get_running_loop().call_later(STATS_INTERVAL,
                                                                  self._tick_stats)
        run = self.jobs.run
        if run is not None and self.jobs.active:
            self.update_object("idle_timeout", {
                "printing_time": round(time.monotonic() - run.started, 1)})

    async def _connect(self) -> None:
        try:
            await self.link.start()
        except (TimeoutError, LinkError, OSError) as exc:
            log.warning("printer link did not come up: %s", exc)

    async def stop(self) -> None:
        if self._start_task is not None:
            self._start_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._start_task
        self.jobs.close()
        self.sd.close()
        self.hub.close()
        self.sync.close()
        if self._stats_timer is not None:
            self._stats_timer.cancel()
        await self.link.stop()

    # -- host commands ----------------------------------------------------------------

    def _register_host_commands(self) -> None:
        reg = self.console.register
        reg("PAUSE", lambda _n, _p: self.pause_print(), "Pause the current print")
        reg("RESUME", lambda _n, _p: self.resume_print(), "Resume the paused print")
        reg("CANCEL_PRINT", lambda _n, _p: self.cancel_print(), "Cancel the current print")
        reg("SDCARD_PRINT_FILE", self._sdcard_print_file, "Start printing a file from gcodes")
        reg("SET_PRINT_STATS_INFO", self._set_print_stats_info, "Set layer information")
        reg("FIRMWARE_RESTART", lambda _n, _p: self.firmware_restart(), "Reset the firmware")
        reg("RESTART", lambda _n, _p: self.restart(), "Reconnect to the printer")
        self.model.update("gcode", {"commands": self._command_list()})

    def _command_list(self) -> dict[str, dict[str, str]]:
        return {name: {"help": text} for name, text in self.console.help().items()}

    async def _sdcard_print_file(self, _name: str, params: dict[str, str]) -> None:
        filename = params.get("FILENAME")
        if not filename:
            raise BadRequest("SDCARD_PRINT_FILE requires FILENAME=")
        await self.start_print(filename)

    def _set_print_stats_info(self, _name: str, params: dict[str, str]) -> None:
        info = dict(self.model.get("print_stats", "info", {}))
        try:
            if "TOTAL_LAYER" in params:
                info["total_layer"] = int(params["TOTAL_LAYER"])
            if "CURRENT_LAYER" in params:
                info["current_layer"] = int(params["CURRENT_LAYER"])
        except ValueError:
            raise BadRequest("SET_PRINT_STATS_INFO: layers must be whole numbers") from None
        self.update_object("print_stats", {"info": info})

    async def emergency_stop(self) -> None:
        try:
            await self.link.emergency("M112")
        except LinkError as exc:
            raise Conflict(f"Emergency stop could not be sent: {exc}") from None

    async def firmware_restart(self) -> None:
        """Reset the board (DTR, as the USB auto-reset does; the virtual printer's own
        reset) and re-run the handshake. Never M997, which would flash firmware."""
        reset = getattr(self.link, "firmware_restart", None)
        if reset is not None:
            await reset()
        elif self.link.virtual_printer is not None:
            await asyncio.to_thread(self.link.virtual_printer.firmware_reset)
        else:
            await self.send_firmware("M999")

    async def restart(self) -> None:
        await self.link.stop()
        self._start_task = asyncio.get_running_loop().create_task(self._connect())

    def spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("printer action failed: %s", task.exception())

    # -- console -----------------------------------------------------------------------

    def respond(self, line: str) -> None:
        self.server.send_notification("notify_gcode_response", [line])
        self.server.events.emit(GcodeResponse(line))

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


def load_component(server: ServerApi) -> Printer:
    return Printer(server)
