"""Klipper's heater and fan commands on Marlin:

SET_HEATER_TEMPERATURE HEATER= TARGET=  → M104 [T<n>] S / M140 S / M141 S
TURN_OFF_HEATERS                        → S0 for every heater
TEMPERATURE_WAIT SENSOR= MINIMUM= MAXIMUM= → the host waits on the reported
    temperature (console); in a print file M109/M190 at the target or MINIMUM
SET_FAN_SPEED FAN= SPEED=               → M106 P<index> S<0-255> for a [fan_generic]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from components.printer.gcode_state import GcodeState
from components.printer.params import CommandError, Params
from components.printer.temperatures import CHAMBER_HEATER

if TYPE_CHECKING:
    from components.printer.core import PrinterCore


def _emit(state: GcodeState, lines: list[str]) -> list[str]:
    for line in lines:
        state.apply(line)
    return lines


class HeaterCommands:
    def __init__(self, core: PrinterCore) -> None:
        self.core = core

    def heaters(self) -> list[str]:
        """HEATER= values: extruders, heater_bed, and "chamber" (the object
        `heater_generic chamber`) when the firmware has a heated chamber."""
        names = [n for n in self.core.model.get("heaters", "available_heaters", [])
                 if n != CHAMBER_HEATER]
        if self.core.link.firmware.has("CHAMBER_TEMPERATURE"):
            names.append("chamber")
        return names

    def _extruders(self) -> list[str]:
        return [n for n in self.heaters() if n.startswith("extruder")]

    def set_line(self, heater: str, target: float, wait: bool = False) -> str:
        if heater == "heater_bed":
            return f"M{190 if wait else 140} S{target:g}"
        if heater == "chamber":
            return f"M{191 if wait else 141} S{target:g}"
        code = 109 if wait else 104
        if len(self._extruders()) == 1:
            return f"M{code} S{target:g}"
        return f"M{code} T{int(heater[len('extruder'):] or 0)} S{target:g}"

    def _heater(self, params: Params, key: str) -> str:
        name = params.get_str(key)
        known = self.heaters()
        if name not in known:
            raise CommandError(f"The value '{name}' is not valid for {key}. "
                               f"Options: {', '.join(known)}")
        return name

    # -- commands ------------------------------------------------------------------------

    def set_heater_temperature(self, params: Params, state: GcodeState) -> list[str]:
        heater = self._heater(params, "HEATER")
        target = params.get_float("TARGET", 0.0)
        error = self.core.limits.temperature_error(heater, target)
        if error is not None:
            raise CommandError(error)
        return _emit(state, [self.set_line(heater, target)])

    def turn_off_heaters(self, params: Params, state: GcodeState) -> list[str]:
        return _emit(state, [self.set_line(name, 0.0) for name in self.heaters()])

    def _wait_bounds(self, params: Params) -> tuple[str, float | None, float | None]:
        sensor = params.get_str("SENSOR")
        sensors = self.core.model.get("heaters", "available_sensors", [])
        if sensor not in sensors:
            raise CommandError(f"Unknown sensor '{sensor}'. Options: {', '.join(sensors)}")
        low = params.get_opt_float("MINIMUM")
        high = params.get_opt_float("MAXIMUM")
        if low is None and high is None:
            raise params.error("missing MINIMUM or MAXIMUM")
        return sensor, low, high

    async def temperature_wait(self, params: Params) -> None:
        sensor, low, high = self._wait_bounds(params)
        model = self.core.model

        def reached() -> bool:
            temp = model.get(sensor, "temperature", 0.0)
            return (low is None or temp >= low) and (high is None or temp <= high)

        await self.core.wait_for_temperature(reached)

    def temperature_wait_in_file(self, params: Params, state: GcodeState) -> list[str]:
        # no host wait inside a stream: the firmware's own wait (M109/M190) at the
        # target, raised to MINIMUM if below. Marlin cannot wait for cooling without
        # setting a target (R would hold the heater there): MAXIMUM alone is skipped.
        sensor, low, _high = self._wait_bounds(params)
        if sensor not in self.heaters() or low is None:
            self.core.respond(f"// {params.line}: only MINIMUM of a heater can be waited "
                              "for inside a print file on Marlin; skipped")
            return []
        target = max(state.targets.get(sensor, 0.0), low)
        return _emit(state, [self.set_line(sensor, target, wait=True)])

    def set_fan_speed(self, params: Params, state: GcodeState) -> list[str]:
        name = params.get_str("FAN")
        fans = self.core.setup.fans
        if name not in fans:
            raise CommandError(f"The value '{name}' is not valid for FAN. "
                               f"Options: {', '.join(fans) or 'none configured'}")
        speed = params.get_float("SPEED", minval=0.0, maxval=1.0)
        index = fans[name].index
        self.core.update_object(f"fan_generic {name}", {"speed": speed})
        line = f"M106 P{index} S{round(speed * 255)}" if speed else f"M107 P{index}"
        return _emit(state, [line])


def register(core: PrinterCore) -> HeaterCommands:
    cmds = HeaterCommands(core)
    add = core.table.add_translated
    add("SET_HEATER_TEMPERATURE", cmds.set_heater_temperature,
        "Sets a heater temperature")
    add("TURN_OFF_HEATERS", cmds.turn_off_heaters, "Turn off all heaters")
    add("TEMPERATURE_WAIT", cmds.temperature_wait_in_file,
        "Wait for a temperature on a sensor", handler=cmds.temperature_wait)
    add("SET_FAN_SPEED", cmds.set_fan_speed, "Sets the speed of a fan")
    return cmds
