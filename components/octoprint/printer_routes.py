"""`/api/printer` and its parts (printhead, tool, bed, sd, command), with the status codes
of OctoPrint's printer API: 204 done, 400 invalid value, 409 not operational (or, for
jog/home/select/extrude, printing). Every action is G-code through `run_gcode`."""

from __future__ import annotations

import re
from typing import Any

from components.octoprint.core import Compat
from components.octoprint.history import TemperatureHistory
from components.octoprint.state import Snapshot, heater_name, temperatures
from components.octoprint.web import NO_CONTENT, ApiError, Call, Reply, Route
from gateway.gcode_text import single_line

_TOOL = re.compile(r"^tool(\d+)$")
AXES = ("x", "y", "z")
# mm/min, OctoPrint's default printer profile
AXIS_SPEED = {"x": 6000.0, "y": 6000.0, "z": 200.0, "e": 300.0}
OFFSET_RANGE = 50
FEEDRATE_RANGE = (50, 200)
FLOWRATE_RANGE = (75, 125)
EXCLUDABLE = ("temperature", "sd", "state")


def number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ApiError(400, f"Not a number for {what}: {value!r}")
    return float(value)


def fmt(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".") or "0"


def factor_percent(value: Any, limits: tuple[int, int], what: str) -> int:
    """OctoPrint's factor: a percentage, or a float up to a few (1.1 = 110 %)."""
    factor = number(value, what)
    if isinstance(value, float) and factor <= limits[1] / 100:
        factor *= 100
    percent = round(factor)
    if not limits[0] <= percent <= limits[1]:
        raise ApiError(400, f"{what} must be between {limits[0]} and {limits[1]}%")
    return percent


class PrinterRoutes:
    def __init__(self, app: Compat, history: TemperatureHistory) -> None:
        self.app = app
        self.history = history

    def routes(self) -> dict[str, dict[str, Route]]:
        return {
            r"/api/printer": {"GET": self.get_printer},
            r"/api/printer/printhead": {"POST": self.printhead},
            r"/api/printer/tool": {"GET": self.get_tool, "POST": self.tool},
            r"/api/printer/bed": {"GET": self.get_bed, "POST": self.bed},
            r"/api/printer/sd": {"GET": self.get_sd, "POST": self.sd},
            r"/api/printer/command": {"POST": self.command},
        }

    # -- state -------------------------------------------------------------------------

    def _temperatures(self, call: Call, snap: Snapshot, only: str | None) -> dict[str, Any]:
        temps: dict[str, Any] = temperatures(snap, self.app.offsets, only)
        if call.flag("history"):
            limit = call.query.get("limit", "")
            temps["history"] = self.history.recent(
                int(limit) if limit.isdigit() else None, only)
        return temps

    async def get_printer(self, call: Call) -> Any:
        snap = self.app.operational()
        exclude = {e.strip() for e in call.query.get("exclude", "").split(",") if e.strip()}
        body: dict[str, Any] = {}
        if "temperature" not in exclude:
            body["temperature"] = self._temperatures(call, snap, None)
        if "sd" not in exclude:
            body["sd"] = {"ready": self.app.sd.ready}
        if "state" not in exclude:
            body["state"] = self.app.state(snap).as_dict()
        return body

    async def get_tool(self, call: Call) -> Any:
        return self._temperatures(call, self.app.operational(), "tool")

    async def get_bed(self, call: Call) -> Any:
        snap = self.app.operational()
        if "heater_bed" not in snap.heaters:
            raise ApiError(409, "Printer does not have a heated bed")
        return self._temperatures(call, snap, "bed")

    async def get_sd(self, call: Call) -> Any:
        return {"ready": self.app.sd.ready}

    # -- printhead ---------------------------------------------------------------------

    async def printhead(self, call: Call) -> Reply:
        command, data = call.command(("jog", "home", "feedrate"))
        snap = self.app.operational()
        if command != "feedrate" and snap.printing:
            raise ApiError(409, "Printer is not operational or currently printing")
        if command == "jog":
            script = self._jog(data)
        elif command == "home":
            axes = data.get("axes", list(AXES))
            if not isinstance(axes, list) or not axes or any(a not in AXES for a in axes):
                raise ApiError(400, "Invalid axes: expected a list of x, y, z")
            script = "G28 " + " ".join(a.upper() for a in AXES if a in axes)
        else:
            percent = factor_percent(data.get("factor"), FEEDRATE_RANGE, "factor")
            script = f"M220 S{percent}"
        await self.app.gcode(script)
        return NO_CONTENT

    @staticmethod
    def _jog(data: dict[str, Any]) -> str:
        moves = {axis: number(data[axis], axis) for axis in AXES if data.get(axis) is not None}
        absolute = bool(data.get("absolute", False))
        speed = data.get("speed")
        if speed is None or speed is True:
            feed = min([AXIS_SPEED[a] for a in moves] or [AXIS_SPEED["x"]])
        elif speed is False:
            feed = 0.0
        else:
            feed = number(speed, "speed")
            if feed <= 0:
                raise ApiError(400, "speed must be positive")
        if not moves:
            raise ApiError(400, "Nothing to jog: give x, y and/or z")
        words = " ".join(f"{a.upper()}{fmt(v)}" for a, v in moves.items())
        move = f"G1 {words}" + (f" F{fmt(feed)}" if feed else "")
        return f"G90\n{move}" if absolute else f"G91\n{move}\nG90"

    # -- tool and bed -------------------------------------------------------------------

    def _tool_index(self, snap: Snapshot, key: Any) -> int:
        match = _TOOL.match(key) if isinstance(key, str) else None
        if match is None:
            raise ApiError(400, f"Invalid tool: {key!r}, expected tool{{n}}")
        index = int(match.group(1))
        if heater_name(key) not in snap.heaters:
            raise ApiError(400, f"Invalid tool: {key} (the printer has "
                                f"{len(snap.tools())} tool(s))")
        return index

    def _max_temp(self, snap: Snapshot, heater: str) -> float:
        settings = self.app.snapshot(with_settings=True).settings.get(heater, {})
        value = settings.get("max_temp") if isinstance(settings, dict) else None
        return float(value) if isinstance(value, (int, float)) else 300.0

    def _target(self, snap: Snapshot, key: str, value: Any) -> float:
        target = number(value, key)
        heater = heater_name(key) or ""
        limit = self._max_temp(snap, heater)
        if not 0 <= target <= limit:
            raise ApiError(400, f"Target for {key} out of range [0, {fmt(limit)}]")
        return target + self.app.offsets.get(key, 0) if target > 0 else target

    def _offset(self, key: str, value: Any) -> int:
        offset = number(value, key)
        if not -OFFSET_RANGE <= offset <= OFFSET_RANGE:
            raise ApiError(400, f"Offset for {key} not in range [-{OFFSET_RANGE}, "
                                f"{OFFSET_RANGE}]")
        return round(offset)

    async def tool(self, call: Call) -> Reply:
        command, data = call.command(("target", "offset", "select", "extrude", "flowrate"))
        snap = self.app.operational()
        if command in ("select", "extrude") and snap.printing:
            raise ApiError(409, "Printer is currently printing")
        if command == "target":
            targets = data.get("targets")
            if not isinstance(targets, dict) or not targets:
                raise ApiError(400, "Mandatory parameters missing: targets")
            lines = []
            for key, value in targets.items():
                index = self._tool_index(snap, key)
                lines.append(f"M104 T{index} S{fmt(self._target(snap, key, value))}")
            await self.app.gcode("\n".join(lines))
        elif command == "offset":
            offsets = data.get("offsets")
            if not isinstance(offsets, dict) or not offsets:
                raise ApiError(400, "Mandatory parameters missing: offsets")
            checked = {}
            for key, value in offsets.items():
                self._tool_index(snap, key)
                checked[key] = self._offset(key, value)
            self.app.offsets.update(checked)
        elif command == "select":
            index = self._tool_index(snap, data.get("tool"))
            await self.app.gcode(f"T{index}")
        elif command == "extrude":
            amount = number(data.get("amount"), "amount")
            speed = data.get("speed")
            feed = AXIS_SPEED["e"] if speed is None else number(speed, "speed")
            if feed <= 0:
                raise ApiError(400, "speed must be positive")
            await self.app.gcode(f"M83\nG1 E{fmt(amount)} F{fmt(feed)}\nM82")
        else:
            percent = factor_percent(data.get("factor"), FLOWRATE_RANGE, "factor")
            await self.app.gcode(f"M221 S{percent}")
        return NO_CONTENT

    async def bed(self, call: Call) -> Reply:
        command, data = call.command(("target", "offset"))
        snap = self.app.operational()
        if "heater_bed" not in snap.heaters:
            raise ApiError(409, "Printer does not have a heated bed")
        if command == "target":
            if "target" not in data:
                raise ApiError(400, "Mandatory parameters missing: target")
            await self.app.gcode(f"M140 S{fmt(self._target(snap, 'bed', data['target']))}")
        else:
            if "offset" not in data:
                raise ApiError(400, "Mandatory parameters missing: offset")
            self.app.offsets["bed"] = self._offset("bed", data["offset"])
        return NO_CONTENT

    # -- SD card and raw commands -------------------------------------------------------

    async def sd(self, call: Call) -> Reply:
        command, _ = call.command(("init", "refresh", "release"))
        snap = self.app.operational()
        if command == "init":
            await self.app.gcode("M21")
            if self.app.sd.ready:
                await self.app.refresh_sd()
            return NO_CONTENT
        if not self.app.sd.ready:
            raise ApiError(409, "SD card has not been initialized")
        if command == "refresh":
            await self.app.refresh_sd()
        else:
            if snap.active and snap.from_sd:
                raise ApiError(409, "Cannot release the SD card while printing from it")
            await self.app.gcode("M22")
        return NO_CONTENT

    async def command(self, call: Call) -> Reply:
        data = call.json()
        if "command" in data and "commands" in data:
            raise ApiError(400, "'command' and 'commands' are mutually exclusive")
        if "script" in data:
            raise ApiError(404, "Unknown script")
        if "command" in data:
            commands = [data["command"]]
        elif "commands" in data:
            commands = data["commands"]
        else:
            raise ApiError(400, "Need one of 'command', 'commands' or 'script'")
        if not isinstance(commands, list) or not all(isinstance(c, str) for c in commands):
            raise ApiError(400, "commands is invalid")
        for command in commands:
            # one command each: a line break would smuggle in another one
            single_line(command)
        self.app.operational()
        script = "\n".join(c.strip() for c in commands if c.strip())
        if script:
            await self.app.gcode(script)
        return NO_CONTENT
