"""The Klipper-shaped objects a Marlin printer is presented as, with their initial values.

Mainsail and Fluidd subscribe to every listed object; `configfile` must describe a
printer (kinematics, heaters, limits) and the PAUSE/RESUME/CANCEL_PRINT macros, or the
frontends show configuration warnings.
"""

from __future__ import annotations

from typing import Any

from components.printer.config import (
    FanGenericSection,
    MacroSection,
    PauseResumeSection,
    PrinterSection,
)
from components.printer.exclude_object import OBJECT as EXCLUDE_OBJECT
from components.printer.exclude_object import initial_status as exclude_status
from components.printer.layer_pause import initial_status as layer_pause_status
from components.printer.mcu import empty_mcu

# macros every frontend expects; the printer component implements them on the host.
# SET_PAUSE_NEXT_LAYER/SET_PAUSE_AT_LAYER are what Mainsail's and Fluidd's "pause at
# layer" dialogs look for (they come from mainsail-config on a Klipper printer)
BUILTIN_MACROS = {
    "PAUSE": "Pause the current print: park the head, keep the heaters",
    "RESUME": "Resume the paused print at the exact position it left",
    "CANCEL_PRINT": "Cancel the current print",
    "SET_PAUSE_NEXT_LAYER": "Pause (or run MACRO) when the next layer starts",
    "SET_PAUSE_AT_LAYER": "Pause (or run MACRO) when LAYER starts",
}


def limit_fields(
    minimum: tuple[float, float, float], maximum: tuple[float, float, float]
) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, Any]], dict[str, Any]]:
    """The axis ranges in use, as configfile's stepper sections and toolhead's fields."""
    config: dict[str, dict[str, str]] = {}
    settings: dict[str, dict[str, Any]] = {}
    for index, axis in enumerate("xyz"):
        low, high = minimum[index], maximum[index]
        config[f"stepper_{axis}"] = {"position_min": _fmt(low), "position_max": _fmt(high)}
        settings[f"stepper_{axis}"] = {"position_min": low, "position_max": high}
    toolhead = {"axis_minimum": [*minimum, 0.0], "axis_maximum": [*maximum, 0.0]}
    return config, settings, toolhead


def extruder_names(count: int) -> list[str]:
    return ["extruder" if i == 0 else f"extruder{i}" for i in range(max(1, count))]


def _fmt(value: float) -> str:
    return f"{value:g}"


def build_configfile(
    cfg: PrinterSection,
    pause: PauseResumeSection,
    macros: dict[str, MacroSection],
    extruders: list[str],
    fans: dict[str, FanGenericSection],
) -> dict[str, Any]:
    config: dict[str, dict[str, str]] = {
        "printer": {
            "kinematics": cfg.kinematics,
            "max_velocity": _fmt(cfg.max_velocity),
            "max_accel": _fmt(cfg.max_accel),
            "square_corner_velocity": _fmt(cfg.square_corner_velocity),
        },
        "virtual_sdcard": {"path": "~/printer_data/gcodes"},
        "pause_resume": {},
        "display_status": {},
        "exclude_object": {},
    }
    settings: dict[str, dict[str, Any]] = {
        "printer": {
            "kinematics": cfg.kinematics,
            "max_velocity": cfg.max_velocity,
            "max_accel": cfg.max_accel,
            "square_corner_velocity": cfg.square_corner_velocity,
            "minimum_cruise_ratio": cfg.minimum_cruise_ratio,
        },
        "virtual_sdcard": {"path": "~/printer_data/gcodes", "on_error_gcode": ""},
        "pause_resume": {"recover_velocity": pause.park_speed},
        "display_status": {},
        "exclude_object": {},
    }
    for name, fan in fans.items():
        config[f"fan_generic {name}"] = {"index": str(fan.index)}
        settings[f"fan_generic {name}"] = {"index": fan.index}
    for axis in "xyz":
        low, high = getattr(cfg, f"{axis}_min"), getattr(cfg, f"{axis}_max")
        config[f"stepper_{axis}"] = {"position_min": _fmt(low), "position_max": _fmt(high)}
        settings[f"stepper_{axis}"] = {"position_min": low, "position_max": high}
    for name in extruders:
        config[name] = {
            "min_temp": _fmt(cfg.extruder_min_temp),
            "max_temp": _fmt(cfg.extruder_max_temp),
            "min_extrude_temp": _fmt(cfg.min_extrude_temp),
        }
        settings[name] = {
            "min_temp": cfg.extruder_min_temp,
            "max_temp": cfg.extruder_max_temp,
            "min_extrude_temp": cfg.min_extrude_temp,
            "max_extrude_only_distance": 50.0,
            "nozzle_diameter": 0.4,
            "filament_diameter": 1.75,
        }
    if cfg.heated_bed:
        config["heater_bed"] = {"min_temp": "0", "max_temp": _fmt(cfg.bed_max_temp)}
        settings["heater_bed"] = {"min_temp": 0.0, "max_temp": cfg.bed_max_temp}
    all_macros = {name: MacroSection(description=text) for name, text in BUILTIN_MACROS.items()}
    all_macros.update(macros)
    for name, macro in all_macros.items():
        section = f"gcode_macro {name}"
        config[section] = {"gcode": macro.gcode, "description": macro.description}
        settings[section.lower()] = {"gcode": macro.gcode, "description": macro.description}
    return {
        "config": config,
        "settings": settings,
        "save_config_pending": False,
        "save_config_pending_items": {},
        "warnings": [],
    }


def initial_objects(
    cfg: PrinterSection,
    pause: PauseResumeSection,
    macros: dict[str, MacroSection],
    fans: dict[str, FanGenericSection] | None = None,
    extruder_count: int = 1,
) -> dict[str, dict[str, Any]]:
    extruders = extruder_names(extruder_count)
    heaters = [*extruders, *(["heater_bed"] if cfg.heated_bed else [])]
    zero4 = [0.0, 0.0, 0.0, 0.0]
    objects: dict[str, dict[str, Any]] = {
        "webhooks": {"state": "startup", "state_message": "Printer is connecting"},
        "print_stats": {
            "filename": "",
            "total_duration": 0.0,
            "print_duration": 0.0,
            "filament_used": 0.0,
            "state": "standby",
            "message": "",
            "info": {"total_layer": None, "current_layer": None},
        },
        "virtual_sdcard": {
            "file_path": None,
            "progress": 0.0,
            "is_active": False,
            "file_position": 0,
            "file_size": 0,
        },
        "display_status": {"progress": 0.0, "message": None},
        "pause_resume": {"is_paused": False},
        "idle_timeout": {"state": "Idle", "printing_time": 0.0},
        "toolhead": {
            "homed_axes": "",
            "axis_minimum": [cfg.x_min, cfg.y_min, cfg.z_min, 0.0],
            "axis_maximum": [cfg.x_max, cfg.y_max, cfg.z_max, 0.0],
            "print_time": 0.0,
            "stalls": 0,
            "estimated_print_time": 0.0,
            "extruder": "extruder",
            "position": list(zero4),
            "max_velocity": cfg.max_velocity,
            "max_accel": cfg.max_accel,
            "minimum_cruise_ratio": cfg.minimum_cruise_ratio,
            "square_corner_velocity": cfg.square_corner_velocity,
        },
        "gcode_move": {
            "speed_factor": 1.0,
            "speed": 1500.0,
            "extrude_factor": 1.0,
            "absolute_coordinates": True,
            "absolute_extrude": True,
            "homing_origin": list(zero4),
            "position": list(zero4),
            "gcode_position": list(zero4),
        },
        "motion_report": {
            "live_position": list(zero4),
            "live_velocity": 0.0,
            "live_extruder_velocity": 0.0,
        },
        "fan": {"speed": 0.0, "rpm": None},
        "heaters": {
            "available_heaters": heaters,
            "available_sensors": list(heaters),
            "available_monitors": [],
        },
        "mcu": empty_mcu(),
        "configfile": build_configfile(cfg, pause, macros, extruders, fans or {}),
        "gcode": {"commands": {}},
        EXCLUDE_OBJECT: exclude_status(),
    }
    for name in fans or {}:
        objects[f"fan_generic {name}"] = {"speed": 0.0, "rpm": None}
    for name in extruders:
        objects[name] = {
            "temperature": 0.0,
            "target": 0.0,
            "power": 0.0,
            "can_extrude": False,
            "pressure_advance": 0.0,
            "smooth_time": 0.04,
        }
    if cfg.heated_bed:
        objects["heater_bed"] = {"temperature": 0.0, "target": 0.0, "power": 0.0}
    for name in {**BUILTIN_MACROS, **macros}:
        objects[f"gcode_macro {name}"] = {}
    # where Mainsail's pause-at-layer dialog reads the settings (mainsail-config's macro)
    objects["gcode_macro SET_PRINT_STATS_INFO"] = layer_pause_status()
    return objects
