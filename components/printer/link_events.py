"""Host-link events → the printer model: the one place where what the firmware says
becomes Klipper-shaped state, console lines and notifications."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from components.printer.api import PrinterStateChanged
from components.printer.temperatures import CHAMBER_HEATER, readings
from gateway.hostlink import LinkState, StateChanged
from gateway.hostlink.protocol import (
    ActionCommand,
    CommandAcknowledged,
    EchoMessage,
    Event,
    FirmwareError,
    FirmwareStarted,
    MachineLimits,
    PositionReport,
    PromptClosed,
    PromptShown,
    SdCardChanged,
    SdFileList,
    SdFileOpened,
    SdPrintDone,
    SdStatus,
    SettingReport,
    TemperatureReport,
)
from gateway.hostlink.protocol.events import ErrorKind
from gateway.hostlink.protocol.parsing import unknown_command

if TYPE_CHECKING:
    from components.printer.core import PrinterCore

log = logging.getLogger(__name__)

INITIALIZING = "Printer is initializing"
_WEBHOOKS = {
    LinkState.READY: ("ready", "Printer is ready"),
    LinkState.CONNECTING: ("startup", "Printer is connecting"),
    LinkState.ERROR: ("error", ""),
    LinkState.SHUTDOWN: ("shutdown", ""),
    LinkState.DISCONNECTED: ("disconnected", ""),
}


class LinkEvents:
    """Listens to the host link; every event is routed in `handle`."""

    def __init__(self, printer: PrinterCore) -> None:
        self.printer = printer
        self.have_temperatures = False
        # temperature reports since the link was last ready
        self.temperature_reports = 0
        # bumped on every link state change: a late end of the connect queries of an
        # earlier connection announces nothing
        self.link_generation = 0
        # the next position report is taken as the G-code position (after M410)
        self.resync_position = False
        self.last_position: PositionReport | None = None

    def handle(self, event: Event) -> None:
        p = self.printer
        match event:
            case CommandAcknowledged(command=command):
                p.gcode.apply(command)
                p.sync.schedule()
            case TemperatureReport():
                self._temperatures(event)
            case PositionReport(axes=axes):
                pos = [axes.get("X", 0.0), axes.get("Y", 0.0), axes.get("Z", 0.0),
                       axes.get("E", 0.0)]
                self.last_position = event
                if self.resync_position:
                    self.resync_position = False
                    p.gcode.position = pos
                    p.sync.schedule()
                # the firmware's own position: the head's actual one, behind what was sent
                p.sync.position_reports = True
                p.update_object("motion_report", {"live_position": pos})
            case MachineLimits():
                if p.limits.on_firmware(event):
                    p.publish_limits()
                p.warn_limits(p.limits.disagreement())
            case StateChanged(state=state, message=message):
                self._state(state, message)
            case EchoMessage(text=text, command=command):
                # what the firmware says while busy with a command the host sent for
                # itself (an M503 at connect) is not console traffic
                if command is None or command.split(" ", 1)[0] not in p.quiet_commands:
                    p.respond(f"echo:{text}")
            case SettingReport(command=code, words=words):
                p.gcode.apply_setting(code, words)
                p.sync.schedule()
            case FirmwareError(kind=kind, message=message) if kind is not ErrorKind.LINE:
                if not self._quiet(message):
                    p.respond(f"!! {message}")
            case ActionCommand(name=name) if name.startswith("prompt_"):
                pass  # the whole dialog comes as PromptShown / PromptClosed
            case ActionCommand():
                self._action(event)
            case PromptShown():
                self._prompt(event)
            case PromptClosed():
                p.respond("// action:prompt_end")
            case FirmwareStarted():
                p.respond("// Firmware restarted")
                p.firmware_started()
            case SdStatus() | SdPrintDone() | SdFileOpened() | SdCardChanged() | SdFileList():
                p.sd.on_event(event)
            case _:
                pass

    def _quiet(self, message: str) -> bool:
        """An error about a command the host sent for itself (`Unknown command: "M211"`)."""
        quoted = unknown_command(message).split(" ")[0].upper()
        return bool(quoted) and quoted in self.printer.quiet_commands

    def _temperatures(self, event: TemperatureReport) -> None:
        p = self.printer
        self.have_temperatures = True
        self.temperature_reports += 1
        p.temperatures_seen.set()
        min_extrude = p.setup.printer.min_extrude_temp
        heated_chamber = p.link.firmware.has("CHAMBER_TEMPERATURE")
        for name, reading in readings(event.sensors, p.gcode.active_tool).items():
            if heated_chamber and name == "temperature_sensor chamber":
                name = CHAMBER_HEATER
            if not p.model.has(name):
                if name == CHAMBER_HEATER:
                    self._add_chamber()
                elif name.startswith("temperature_sensor "):
                    self._add_sensor(name)
                else:
                    continue
            temperature = round(reading.temperature, 2)
            if name.startswith("temperature_sensor "):
                p.update_object(name, self._sensor_fields(name, temperature))
                continue
            fields: dict[str, Any] = {"temperature": temperature}
            if reading.target is not None:
                fields["target"] = reading.target
            if reading.power is not None:
                fields["power"] = round(reading.power, 3)
            if name.startswith("extruder"):
                fields["can_extrude"] = reading.temperature >= min_extrude
            p.update_object(name, fields)

    def _sensor_fields(self, name: str, temperature: float) -> dict[str, Any]:
        low = self.printer.model.get(name, "measured_min_temp")
        high = self.printer.model.get(name, "measured_max_temp")
        return {"temperature": temperature,
                "measured_min_temp": temperature if low is None else min(low, temperature),
                "measured_max_temp": temperature if high is None else max(high, temperature)}

    def _add_chamber(self) -> None:
        """The firmware's heated chamber (M141/M191): Klipper's `heater_generic chamber`,
        a heater (SET_HEATER_TEMPERATURE HEATER=chamber) and a sensor for the panels."""
        p = self.printer
        p.model.add_object(CHAMBER_HEATER, {"temperature": 0.0, "target": 0.0, "power": 0.0})
        p.outlet.changed()
        for key in ("available_heaters", "available_sensors"):
            names = list(p.model.get("heaters", key, []))
            if CHAMBER_HEATER not in names:
                p.update_object("heaters", {key: [*names, CHAMBER_HEATER]})

    def _add_sensor(self, name: str) -> None:
        """A sensor the firmware reports (chamber, probe, board): Klipper's
        temperature_sensor object, listed in heaters.available_sensors for the frontends'
        temperature panels."""
        p = self.printer
        p.model.add_object(name, {"temperature": 0.0, "measured_min_temp": None,
                                  "measured_max_temp": None})
        p.outlet.changed()
        sensors = list(p.model.get("heaters", "available_sensors", []))
        if name not in sensors:
            p.update_object("heaters", {"available_sensors": [*sensors, name]})

    def _state(self, state: LinkState, message: str) -> None:
        p = self.printer
        self.link_generation += 1
        if state is LinkState.READY:
            # as Klipper is ready only after its init: "startup" until the host's own
            # questions at connect are answered (PrinterCore.link_ready → announce_ready)
            self.temperature_reports = 0
            previous = p.state
            p.set_state("startup", INITIALIZING)
            p.temperatures_seen.set()
            p.update_object("webhooks", {"state": "startup", "state_message": INITIALIZING})
            if previous != "startup":
                p.emit(PrinterStateChanged("startup", INITIALIZING))
            p.link_ready(self.link_generation)
            return
        self._announce(state, message)

    def announce_ready(self, generation: int) -> None:
        """The connect-time queries of link generation ``generation`` are answered: the
        printer is ready, unless the link changed state meanwhile."""
        if generation == self.link_generation:
            self._announce(LinkState.READY, "")

    def _announce(self, state: LinkState, message: str) -> None:
        p = self.printer
        webhooks, default = _WEBHOOKS[state]
        text = message if state is not LinkState.READY else default
        text = text or default
        previous = p.state
        p.set_state(webhooks, text)
        p.temperatures_seen.set()
        if webhooks != "disconnected":
            p.update_object("webhooks", {"state": webhooks, "state_message": text})
        if state in (LinkState.SHUTDOWN, LinkState.ERROR, LinkState.DISCONNECTED):
            # the firmware lost its targets (or we cannot know them): do not show stale ones
            for name in p.model.get("heaters", "available_heaters", []):
                p.update_object(name, {"target": 0.0, "power": 0.0})
            p.gcode.targets.clear()
            p.sync.forget_targets()
        if state is LinkState.READY and previous != "ready":
            p.notify("notify_klippy_ready")
        elif state is LinkState.SHUTDOWN and previous != "shutdown":
            # the firmware's own Error: lines have already reached the console
            p.notify("notify_klippy_shutdown")
        elif state is LinkState.DISCONNECTED and previous != "disconnected":
            p.notify("notify_klippy_disconnected")
        p.emit(PrinterStateChanged(webhooks, text))

    def _action(self, event: ActionCommand) -> None:
        p = self.printer
        p.respond(f"// action:{event.name} {event.argument}".rstrip())
        handlers = {"pause": p.pause_print, "resume": p.resume_print,
                    "cancel": p.cancel_print}
        start = handlers.get(event.name)
        if start is not None and p.busy:
            p.spawn(start())
        elif event.name == "paused":
            # the firmware paused itself (M600, a runout): the print shows paused
            p.jobs.firmware_paused()
        elif event.name == "resumed":
            p.jobs.firmware_resumed()

    def _prompt(self, event: PromptShown) -> None:
        # Mainsail and Fluidd show Klipper's "// action:prompt_*" dialogs: each button
        # answers Marlin's prompt with M876 S<index>
        p = self.printer
        p.respond(f"// action:prompt_begin {event.message}")
        for index, choice in enumerate(event.choices):
            p.respond(f"// action:prompt_button {choice}|M876 S{index}|primary")
        p.respond("// action:prompt_show")
