"""`/api/printer` and its parts (printhead, tool, bed, sd, command), with the status codes
of OctoPrint's printer API: 204 done, 400 invalid value, 409 not operational (or, for
jog/home/select/extrude, printing). Every action is G-code through `run_gcode`."""

from __future__ import annotations

import math
import re
from typing import Any

from components.octoprint import params as p
from components.octoprint.core import Compat
from components.octoprint.history import TemperatureHistory
from components.octoprint.state import Snapshot, heater_name, temperatures
from components.octoprint.web import NO_CONTENT, ApiError, Table
from gateway.gcode_text import single_line
from gateway.registry import Response
from gateway.request import Request

_TOOL = re.compile(r"^tool(\d+)$")
AXES = ("x", "y", "z")
# mm/min, OctoPrint's default printer profile
AXIS_SPEED = {"x": 6000.0, "y": 6000.0, "z": 200.0, "e": 300.0}
OFFSET_RANGE = 50
FEEDRATE_RANGE = (50, 200)
FLOWRATE_RANGE = (75, 125)
EXCLUDABLE = ("temperature", "sd", "state")


def fmt(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".") or "0"


def factor_percent(value: int | float, limits: tuple[int, int], what: str) -> int:
    """OctoPrint's factor: a percentage, or a float up to a few (1.1 = 110 %)."""
    factor = float(value)
    if not math.isfinite(factor):
        raise ApiError(400, f"{what} must be a finite number")
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

    def routes(self) -> Table:
        return {
            "/api/printer": ("printer", {"GET": (self.get_printer, p.PrinterArgs)}),
            "/api/printer/printhead": ("printer.printhead", {
                "POST": (self.printhead, p.PrintheadArgs)}),
            "/api/printer/tool": ("printer.tool", {
                "GET": (self.get_tool, p.HistoryArgs), "POST": (self.tool, p.ToolArgs)}),
            "/api/printer/bed": ("printer.bed", {
                "GET": (self.get_bed, p.HistoryArgs), "POST": (self.bed, p.BedArgs)}),
            "/api/printer/sd": ("printer.sd", {
                "GET": (self.get_sd, None), "POST": (self.sd, p.SdArgs)}),
            "/api/printer/command": ("printer.command", {
                "POST": (self.command, p.CommandArgs)}),
        }

    # -- state -------------------------------------------------------------------------

    def _temperatures(self, args: p.HistoryArgs, snap: Snapshot,
                      only: str | None) -> dict[str, Any]:
        temps: dict[str, Any] = temperatures(snap, self.app.offsets, only)
        if args.history:
            temps["history"] = self.history.recent(args.limit, only)
        return temps

    async def get_printer(self, args: p.PrinterArgs, request: Request) -> object:
        snap = self.app.operational()
        exclude = {e.strip() for e in args.exclude}
        body: dict[str, Any] = {}
        if "temperature" not in exclude:
            body["temperature"] = self._temperatures(args, snap, None)
        if "sd" not in exclude:
            body["sd"] = {"ready": self.app.sd.ready}
        if "state" not in exclude:
            body["state"] = self.app.state(snap).as_dict()
        return body

    async def get_tool(self, args: p.HistoryArgs, request: Request) -> object:
        return self._temperatures(args, self.app.operational(), "tool")

    async def get_bed(self, args: p.HistoryArgs, request: Request) -> object:
        snap = self.app.operational()
        if "heater_bed" not in snap.heaters:
            raise ApiError(409, "Printer does not have a heated bed")
        return self._temperatures(args, snap, "bed")

    async def get_sd(self, request: Request) -> object:
        return {"ready": self.app.sd.ready}

    # -- printhead ---------------------------------------------------------------------

    async def printhead(self, args: p.PrintheadArgs, request: Request) -> Response:
        snap = self.app.operational()
        if not isinstance(args, p.Feedrate) and snap.printing:
            raise ApiError(409, "Printer is not operational or currently printing")
        if isinstance(args, p.Jog):
            script = self._jog(args)
        elif isinstance(args, p.Home):
            script = "G28 " + " ".join(a.upper() for a in AXES if a in args.axes)
        else:
            percent = factor_percent(args.factor, FEEDRATE_RANGE, "factor")
            script = f"M220 S{percent}"
        await self.app.gcode(script)
        return NO_CONTENT

    @staticmethod
    def _jog(args: p.Jog) -> str:
        moves = {axis: value for axis, value in (("x", args.x), ("y", args.y), ("z", args.z))
                 if value is not None}
        absolute = args.absolute
        speed = args.speed
        if speed is None or speed is True:
            feed = min([AXIS_SPEED[a] for a in moves] or [AXIS_SPEED["x"]])
        elif speed is False:
            feed = 0.0
        else:
            feed = speed
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

    def _target(self, snap: Snapshot, key: str, value: int | float) -> float:
        target = float(value)
        heater = heater_name(key) or ""
        limit = self._max_temp(snap, heater)
        if not 0 <= target <= limit:  # NaN fails too
            raise ApiError(400, f"Target for {key} out of range [0, {fmt(limit)}]")
        return target + self.app.offsets.get(key, 0) if target > 0 else target

    def _offset(self, key: str, value: int | float) -> int:
        offset = float(value)
        if not -OFFSET_RANGE <= offset <= OFFSET_RANGE:  # NaN fails too
            raise ApiError(400, f"Offset for {key} not in range [-{OFFSET_RANGE}, "
                                f"{OFFSET_RANGE}]")
        return round(offset)

    async def tool(self, args: p.ToolArgs, request: Request) -> Response:
        snap = self.app.operational()
        if isinstance(args, (p.ToolSelect, p.ToolExtrude)) and snap.printing:
            raise ApiError(409, "Printer is currently printing")
        if isinstance(args, p.ToolTarget):
            lines = []
            for key, value in args.targets.items():
                index = self._tool_index(snap, key)
                lines.append(f"M104 T{index} S{fmt(self._target(snap, key, value))}")
            await self.app.gcode("\n".join(lines))
        elif isinstance(args, p.ToolOffset):
            checked = {}
            for key, value in args.offsets.items():
                self._tool_index(snap, key)
                checked[key] = self._offset(key, value)
            self.app.offsets.update(checked)
        elif isinstance(args, p.ToolSelect):
            index = self._tool_index(snap, args.tool)
            await self.app.gcode(f"T{index}")
        elif isinstance(args, p.ToolExtrude):
            feed = AXIS_SPEED["e"] if args.speed is None else args.speed
            if feed <= 0:
                raise ApiError(400, "speed must be positive")
            await self.app.gcode(f"M83\nG1 E{fmt(args.amount)} F{fmt(feed)}\nM82")
        else:
            percent = factor_percent(args.factor, FLOWRATE_RANGE, "factor")
            await self.app.gcode(f"M221 S{percent}")
        return NO_CONTENT

    async def bed(self, args: p.BedArgs, request: Request) -> Response:
        snap = self.app.operational()
        if "heater_bed" not in snap.heaters:
            raise ApiError(409, "Printer does not have a heated bed")
        if isinstance(args, p.BedTarget):
            await self.app.gcode(f"M140 S{fmt(self._target(snap, 'bed', args.target))}")
        else:
            self.app.offsets["bed"] = self._offset("bed", args.offset)
        return NO_CONTENT

    # -- SD card and raw commands -------------------------------------------------------

    async def sd(self, args: p.SdArgs, request: Request) -> Response:
        snap = self.app.operational()
        if isinstance(args, p.SdInit):
            await self.app.gcode("M21")
            if self.app.sd.ready:
                await self.app.refresh_sd()
            return NO_CONTENT
        if not self.app.sd.ready:
            raise ApiError(409, "SD card has not been initialized")
        if isinstance(args, p.SdRefresh):
            await self.app.refresh_sd()
        else:
            if snap.active and snap.from_sd:
                raise ApiError(409, "Cannot release the SD card while printing from it")
            await self.app.gcode("M22")
        return NO_CONTENT

    async def command(self, args: p.CommandArgs, request: Request) -> Response:
        if args.command is not None and args.commands is not None:
            raise ApiError(400, "'command' and 'commands' are mutually exclusive")
        if args.script is not None:
            raise ApiError(404, "Unknown script")
        if args.command is not None:
            commands = [args.command]
        elif args.commands is not None:
            commands = args.commands
        else:
            raise ApiError(400, "Need one of 'command', 'commands' or 'script'")
        for command in commands:
            # one command each: a line break would smuggle in another one
            single_line(command)
        self.app.operational()
        script = "\n".join(c.strip() for c in commands if c.strip())
        if script:
            printer = self.app.printer
            if printer is not None:
                # a line the firmware could not take is the caller's 400 at once, not
                # after the commands queued before it
                printer.check_gcode(script)
            await self.app.gcode(script)
        return NO_CONTENT
