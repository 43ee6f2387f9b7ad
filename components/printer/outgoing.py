"""A firmware line on its way out (from the console or a print file): checked against
the limits and given the host's part of the G-code offset.

Works on a send-time G-code state: a copy the caller advances line by line, because the
firmware acknowledges lines later than they are sent."""

from __future__ import annotations

import re

from components.printer.gcode_state import AXES, GcodeState, fmt, split_command
from components.printer.limits import Limits
from components.printer.params import CommandError

_MOVES = frozenset({"G0", "G1", "G2", "G3"})
_OFFSET_CODES = _MOVES | {"G92"}
_HOTEND = frozenset({"M104", "M109"})
_BED = frozenset({"M140", "M190"})
_CHAMBER = frozenset({"M141", "M191"})
_AXIS_WORD = re.compile(r"^([XYZxyz])([-+]?(?:\d+\.?\d*|\.\d+))$")


def heater_of(code: str, words: dict[str, float], active_tool: int) -> str | None:
    if code in _HOTEND:
        tool = int(words.get("T", active_tool))
        return "extruder" if tool == 0 else f"extruder{tool}"
    if code in _BED:
        return "heater_bed"
    if code in _CHAMBER:
        return "chamber"
    return None


def with_offset(line: str, offset: list[float]) -> str:
    """`G1 X10 Z0.2 F600` with offset (0, 0, 0.05) → `G1 X10 Z0.25 F600`."""
    words = line.split(";", 1)[0].split()
    out = [words[0]]
    for word in words[1:]:
        match = _AXIS_WORD.match(word)
        if match is None:
            out.append(word)
            continue
        axis = "XYZ".index(match.group(1).upper())
        value = float(match.group(2)) + offset[axis]
        out.append(f"{match.group(1).upper()}{fmt(value)}")
    return " ".join(out)


class Outgoing:
    def __init__(self, limits: Limits) -> None:
        self.limits = limits

    def check_temperature(self, code: str, words: dict[str, float], state: GcodeState) -> None:
        heater = heater_of(code, words, state.active_tool)
        target = words.get("S", words.get("R"))
        if heater is None or target is None:
            return
        error = self.limits.temperature_error(heater, target)
        if error is not None:
            raise CommandError(error)

    def translate(self, line: str, state: GcodeState, check_range: bool) -> str:
        """The line to send (offsets added); advances `state`. Raises CommandError for
        a target over max_temp or (`check_range`) a move outside the known range."""
        code, words = split_command(line)
        self.check_temperature(code, words, state)
        if code in _OFFSET_CODES:
            offset = state.host_offset()
            relative = code != "G92" and not state.absolute_coordinates
            if any(offset) and not relative:
                line = with_offset(line, offset)
            if check_range and code in _MOVES:
                before = state.position
                after = state.copy()
                after.apply(line)
                moved = {i for i, axis in enumerate(AXES)
                         if axis in words and after.position[i] != before[i]}
                error = self.limits.move_error(after.position, moved)
                if error is not None:
                    raise CommandError(error)
        state.apply(line)
        return line
