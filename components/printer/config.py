"""[printer], [pause_resume] and [gcode_macro NAME] sections: what Klipper would read from
printer.cfg and Marlin does not tell us."""

from __future__ import annotations

import msgspec

from gateway.config import Config


class PrinterSection(msgspec.Struct, kw_only=True):
    kinematics: str = "cartesian"
    x_min: float = 0.0
    x_max: float = 220.0
    y_min: float = 0.0
    y_max: float = 220.0
    z_min: float = 0.0
    z_max: float = 250.0
    max_velocity: float = 300.0
    max_accel: float = 3000.0
    square_corner_velocity: float = 5.0
    minimum_cruise_ratio: float = 0.5
    extruder_min_temp: float = 0.0
    extruder_max_temp: float = 275.0
    min_extrude_temp: float = 170.0
    bed_max_temp: float = 120.0
    # a heated chamber (M141) when the firmware reports CHAMBER_TEMPERATURE
    chamber_max_temp: float = 60.0
    # a heated bed is assumed unless told otherwise (M115 does not say)
    heated_bed: bool = True
    # seconds without activity before idle_timeout reports Idle
    idle_timeout: float = 600.0

    def __post_init__(self) -> None:
        for axis in "xyz":
            low = getattr(self, f"{axis}_min")
            high = getattr(self, f"{axis}_max")
            if high <= low:
                raise ValueError(f"option '{axis}_max': must be above {axis}_min ({low})")
        for name in ("max_velocity", "max_accel", "idle_timeout"):
            if getattr(self, name) <= 0:
                raise ValueError(f"option '{name}': expected a positive number")


class PauseResumeSection(msgspec.Struct, kw_only=True):
    """Where PAUSE parks the head; RESUME returns to the exact saved position."""

    retract_length: float = 1.0
    retract_speed: float = 35.0
    lift_z: float = 10.0
    # None: park at the back-left corner of the bed (x_min, y_max)
    park_x: float | None = None
    park_y: float | None = None
    park_speed: float = 100.0
    # run after the print is stopped by CANCEL_PRINT: heaters and fan off, steppers off
    cancel_gcode: str = "M104 S0\nM140 S0\nM107\nM84"

    def __post_init__(self) -> None:
        if self.retract_length < 0 or self.lift_z < 0:
            raise ValueError("option 'retract_length'/'lift_z': must not be negative")
        if self.park_speed <= 0 or self.retract_speed <= 0:
            raise ValueError("option 'park_speed'/'retract_speed': expected a positive number")


class FanGenericSection(msgspec.Struct, kw_only=True):
    """[fan_generic NAME]: a fan Marlin drives as M106 P<index> (SET_FAN_SPEED FAN=NAME)."""

    index: int = 1

    def __post_init__(self) -> None:
        if not 0 <= self.index <= 7:
            raise ValueError("option 'index': expected Marlin's fan number 0..7")


def load_fans(config: Config) -> dict[str, FanGenericSection]:
    return {name: config.section(f"fan_generic {name}", FanGenericSection)
            for name in config.prefixed_sections("fan_generic")}


class MacroSection(msgspec.Struct, kw_only=True):
    gcode: str = ""
    description: str = "G-Code macro"


def load_macros(config: Config) -> dict[str, MacroSection]:
    macros: dict[str, MacroSection] = {}
    for name in config.prefixed_sections("gcode_macro"):
        macro = config.section(f"gcode_macro {name}", MacroSection)
        macros[name.upper()] = macro
    return macros
