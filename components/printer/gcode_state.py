"""The G-code state the printer is in, derived from the commands it has executed, in order:
coordinate modes, the position, feedrate, speed/flow factors, fan, heater targets, and the
offsets SET_GCODE_OFFSET keeps.

Marlin reports none of these except the position (M114), so the host keeps them. PAUSE
saves this state and RESUME restores it exactly. `position` is in the firmware's
coordinates (what was sent); the G-code coordinates a user sees are `gcode_position()`,
which takes away the part of the offset the host adds to the moves it sends.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from components.printer.temperatures import CHAMBER_HEATER

_WORD = re.compile(r"([A-Z])\s*([-+]?(?:\d+\.?\d*|\.\d+))")
AXES = "XYZE"


def split_command(line: str) -> tuple[str, dict[str, float]]:
    """'G1 X10 Y-2.5 F3000' → ('G1', {'X': 10.0, 'Y': -2.5, 'F': 3000.0}).

    The command word is normalised (G01 → G1); text arguments (M117) give no words."""
    text = line.split(";", 1)[0].strip().upper()
    if not text:
        return "", {}
    head, _, rest = text.partition(" ")
    match = re.fullmatch(r"([GMT])0*(\d+)(?:\.(\d+))?", head)
    if match is None:
        return head, {}
    letter, number, sub = match.groups()
    code = f"{letter}{number}" + (f".{sub}" if sub else "")
    if code in ("M117", "M118", "M23", "M28", "M30", "M32", "M33", "M928"):
        return code, {}
    return code, {k: float(v) for k, v in _WORD.findall(rest)}


@dataclass
class GcodeState:
    position: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0, 0.0])
    absolute_coordinates: bool = True
    absolute_extrude: bool = True
    # mm/min, as G1 F
    feedrate: float = 1500.0
    speed_factor: float = 1.0
    extrude_factor: float = 1.0
    fan_speed: float = 0.0
    homed_axes: str = ""
    targets: dict[str, float] = field(default_factory=dict)
    display_message: str | None = None
    display_progress: float | None = None
    active_tool: int = 0
    # mm of filament pushed (positive E moves) since the last reset, for print_stats
    filament_used: float = 0.0
    # filament per mm of travel of the latest move, for motion_report's extruder velocity
    last_e_ratio: float = 0.0
    # SET_GCODE_OFFSET: the whole offset (gcode_move.homing_origin) and the part of Z
    # done by Marlin's babystepping (M290), which moves the nozzle without changing the
    # firmware's coordinates; the rest the host adds to the moves it sends
    homing_origin: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0, 0.0])
    babystep_z: float = 0.0
    # motion settings the firmware was given (M203 X/Y, M204 P, M205 J, M900 K by
    # extruder object name); absent until set, then shown in toolhead/extruder
    motion: dict[str, float] = field(default_factory=dict)
    pressure_advance: dict[str, float] = field(default_factory=dict)
    # Marlin's home offset (M206): where the endstops are in G-code coordinates
    home_offset: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])

    # filament taken from the spool (Spoolman): the machine E position (G92 leaves it,
    # M221 flow scales it) counted only past its highest value, so retract/unretract cancel
    extruded: float = 0.0
    e_machine: float = 0.0
    e_highest: float = 0.0

    def host_offset(self) -> list[float]:
        """What the host adds to X, Y, Z of absolute moves it sends."""
        x, y, z, _ = self.homing_origin
        return [x, y, z - self.babystep_z]

    def gcode_position(self) -> list[float]:
        offset = self.host_offset()
        return [self.position[i] - offset[i] for i in range(3)] + [self.position[3]]

    def reset(self) -> None:
        """The firmware restarted: its modes, factors and position are its defaults."""
        fresh = GcodeState()
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(fresh, name))

    def copy(self) -> GcodeState:
        return GcodeState(
            position=list(self.position),
            absolute_coordinates=self.absolute_coordinates,
            absolute_extrude=self.absolute_extrude,
            feedrate=self.feedrate,
            speed_factor=self.speed_factor,
            extrude_factor=self.extrude_factor,
            fan_speed=self.fan_speed,
            homed_axes=self.homed_axes,
            targets=dict(self.targets),
            display_message=self.display_message,
            display_progress=self.display_progress,
            active_tool=self.active_tool,
            filament_used=self.filament_used,
            homing_origin=list(self.homing_origin),
            babystep_z=self.babystep_z,
            motion=dict(self.motion),
            pressure_advance=dict(self.pressure_advance),
            home_offset=list(self.home_offset),
        )

    def apply(self, line: str) -> None:
        """Update for one executed command."""
        code, words = split_command(line)
        if not code:
            return
        handler = _HANDLERS.get(code)
        if handler is not None:
            handler(self, words, line)

    def _move(self, words: dict[str, float], _: str) -> None:
        if "F" in words and words["F"] > 0:
            self.feedrate = words["F"]
        before = list(self.position)
        for index, axis in enumerate(AXES):
            if axis not in words:
                continue
            relative = not self.absolute_coordinates if axis != "E" else not self.absolute_extrude
            if relative:
                self.position[index] += words[axis]
            else:
                self.position[index] = words[axis]
            if index == 3 and self.position[3] > before[3]:
                self.filament_used += self.position[3] - before[3]
            if index == 3:
                self.e_machine += (self.position[3] - before[3]) * self.extrude_factor
                if self.e_machine > self.e_highest:
                    self.extruded += self.e_machine - self.e_highest
                    self.e_highest = self.e_machine
        travel = sum((self.position[i] - before[i]) ** 2 for i in range(3)) ** 0.5
        if travel > 0:
            self.last_e_ratio = (self.position[3] - before[3]) / travel

    def _set_position(self, words: dict[str, float], _: str) -> None:
        if not words:
            self.position = [0.0, 0.0, 0.0, 0.0]
            return
        for index, axis in enumerate(AXES):
            if axis in words:
                self.position[index] = words[axis]

    def _home(self, words: dict[str, float], line: str) -> None:
        axes = _axis_letters(line) or list("XYZ")
        for axis in axes:
            self.position["XYZ".index(axis)] = 0.0
        self.homed_axes = "".join(a.lower() for a in "XYZ" if a in axes or a.lower() in
                                  self.homed_axes)

    def _motors_off(self, words: dict[str, float], line: str) -> None:
        # M84 / M18 with no axes disables every stepper; M84 S<seconds> only sets a timeout
        axes = _axis_letters(line)
        if not axes and "S" in words:
            return
        if not axes:
            self.homed_axes = ""
            return
        self.homed_axes = "".join(a for a in self.homed_axes if a.upper() not in axes)

    def _absolute(self, words: dict[str, float], _: str) -> None:
        # Marlin's G90/G91 set every axis including E; M82/M83 only E
        self.absolute_coordinates = True
        self.absolute_extrude = True

    def _relative(self, words: dict[str, float], _: str) -> None:
        self.absolute_coordinates = False
        self.absolute_extrude = False

    def _e_absolute(self, words: dict[str, float], _: str) -> None:
        self.absolute_extrude = True

    def _e_relative(self, words: dict[str, float], _: str) -> None:
        self.absolute_extrude = False

    def _speed_factor(self, words: dict[str, float], _: str) -> None:
        if "S" in words and words["S"] > 0:
            self.speed_factor = words["S"] / 100.0

    def _extrude_factor(self, words: dict[str, float], _: str) -> None:
        if "S" in words and words["S"] > 0:
            self.extrude_factor = words["S"] / 100.0

    def _fan_on(self, words: dict[str, float], _: str) -> None:
        if int(words.get("P", 0)) != 0:
            return
        self.fan_speed = max(0.0, min(1.0, words.get("S", 255.0) / 255.0))

    def _fan_off(self, words: dict[str, float], _: str) -> None:
        if int(words.get("P", 0)) == 0:
            self.fan_speed = 0.0

    def _hotend_target(self, words: dict[str, float], _: str) -> None:
        target = words.get("S", words.get("R"))
        if target is not None:
            tool = int(words.get("T", self.active_tool))
            self.targets["extruder" if tool == 0 else f"extruder{tool}"] = target

    def _bed_target(self, words: dict[str, float], _: str) -> None:
        target = words.get("S", words.get("R"))
        if target is not None:
            self.targets["heater_bed"] = target

    def _chamber_target(self, words: dict[str, float], _: str) -> None:
        target = words.get("S", words.get("R"))
        if target is not None:
            self.targets[CHAMBER_HEATER] = target

    def _display(self, _: dict[str, float], line: str) -> None:
        text = line.split(";", 1)[0].strip()
        self.display_message = text[4:].strip() or None

    def _progress(self, words: dict[str, float], _: str) -> None:
        if "P" in words:
            self.display_progress = max(0.0, min(1.0, words["P"] / 100.0))

    def _babystep(self, words: dict[str, float], _: str) -> None:
        # M290 Z: the nozzle moves, the firmware's coordinates stay: a Z offset
        delta = words.get("Z", words.get("S", 0.0))
        self.homing_origin[2] += delta
        self.babystep_z += delta

    def _max_feedrate(self, words: dict[str, float], _: str) -> None:
        speeds = [words[a] for a in "XY" if a in words and words[a] > 0]
        if speeds:
            self.motion["max_velocity"] = min(speeds)

    def _acceleration(self, words: dict[str, float], _: str) -> None:
        accel = words.get("P", words.get("S"))
        if accel is not None and accel > 0:
            self.motion["max_accel"] = accel

    def _advanced(self, words: dict[str, float], _: str) -> None:
        if "J" in words and words["J"] >= 0:
            self.motion["junction_deviation"] = words["J"]

    def _linear_advance(self, words: dict[str, float], _: str) -> None:
        if "K" in words and words["K"] >= 0:
            tool = int(words.get("T", self.active_tool))
            name = "extruder" if tool == 0 else f"extruder{tool}"
            self.pressure_advance[name] = words["K"]

    def _home_offset(self, words: dict[str, float], _: str) -> None:
        # the firmware's coordinates shift at once by the change (Marlin's M206)
        for index, axis in enumerate("XYZ"):
            if axis in words:
                self.position[index] += words[axis] - self.home_offset[index]
                self.home_offset[index] = words[axis]

    def apply_setting(self, code: str, words: dict[str, float]) -> None:
        """A setting the firmware reported (its M503 answer): values, no motion."""
        if code == "M206":
            for index, axis in enumerate("XYZ"):
                if axis in words:
                    self.home_offset[index] = words[axis]
        elif code in ("M203", "M204", "M205", "M900"):
            handler = _HANDLERS[code]
            handler(self, words, code)

    def _tool(self, words: dict[str, float], line: str) -> None:
        code, _ = split_command(line)
        self.active_tool = int(code[1:])


def _axis_letters(line: str) -> list[str]:
    """Axes named in 'G28 X Y' / 'M84 X' (letters usually come without numbers)."""
    words = line.split(";", 1)[0].upper().split()[1:]
    return [a for a in "XYZ" if any(w.startswith(a) for w in words)]


_HANDLERS = {
    "G0": GcodeState._move,
    "G1": GcodeState._move,
    "G2": GcodeState._move,
    "G3": GcodeState._move,
    "G28": GcodeState._home,
    "G90": GcodeState._absolute,
    "G91": GcodeState._relative,
    "G92": GcodeState._set_position,
    "M18": GcodeState._motors_off,
    "M84": GcodeState._motors_off,
    "M82": GcodeState._e_absolute,
    "M83": GcodeState._e_relative,
    "M220": GcodeState._speed_factor,
    "M221": GcodeState._extrude_factor,
    "M106": GcodeState._fan_on,
    "M107": GcodeState._fan_off,
    "M104": GcodeState._hotend_target,
    "M109": GcodeState._hotend_target,
    "M140": GcodeState._bed_target,
    "M190": GcodeState._bed_target,
    "M141": GcodeState._chamber_target,
    "M191": GcodeState._chamber_target,
    "M117": GcodeState._display,
    "M73": GcodeState._progress,
    "M290": GcodeState._babystep,
    "M203": GcodeState._max_feedrate,
    "M204": GcodeState._acceleration,
    "M205": GcodeState._advanced,
    "M900": GcodeState._linear_advance,
    "M206": GcodeState._home_offset,
}
for _n in range(8):
    _HANDLERS[f"T{_n}"] = GcodeState._tool


def mode_lines(absolute_coordinates: bool, absolute_extrude: bool) -> list[str]:
    """Marlin lines that put the firmware into these modes, whatever it is in now
    (G90/G91 set E's mode too, so M82/M83 comes after)."""
    lines = ["G90" if absolute_coordinates else "G91"]
    if absolute_extrude != absolute_coordinates:
        lines.append("M82" if absolute_extrude else "M83")
    return lines


def fmt(value: float) -> str:
    """A coordinate for a G-code word: 4 decimals, no trailing zeros."""
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text
