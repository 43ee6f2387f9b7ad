"""The moves of PAUSE, RESUME and CANCEL_PRINT, from the saved G-code state.

PAUSE retracts, lifts and parks. RESUME heats again what cooled (a pause may have
broken a heat-up), travels back over the part at the park height, lowers to the saved
Z, primes, and restores the extrusion mode, E coordinate, coordinate mode and feed rate,
so the print goes on exactly where it stopped."""

from __future__ import annotations

from components.printer.config import PauseResumeSection, PrinterSection
from components.printer.gcode_state import GcodeState, mode_lines

# a heater this much below its target is heated again (and waited for) before resuming
REHEAT_MARGIN = 5.0


def park_script(saved: GcodeState, cfg: PauseResumeSection, pcfg: PrinterSection) -> str:
    z = saved.position[2]
    lift = max(0.0, min(cfg.lift_z, pcfg.z_max - z))
    park_x = cfg.park_x if cfg.park_x is not None else pcfg.x_min
    park_y = cfg.park_y if cfg.park_y is not None else pcfg.y_max
    lines = ["M83"]
    if cfg.retract_length:
        lines.append(f"G1 E-{cfg.retract_length:.4f} F{cfg.retract_speed * 60:.0f}")
    lines += [
        "G91",
        f"G1 Z{lift:.4f} F600",
        "G90",
        f"G1 X{park_x:.4f} Y{park_y:.4f} F{cfg.park_speed * 60:.0f}",
    ]
    return "\n".join(lines)


def reheat_lines(saved: GcodeState, temperatures: dict[str, float]) -> list[str]:
    """M109/M190 for the heaters the print had a target for that are now cold."""
    lines = []
    for name, target in sorted(saved.targets.items()):
        if target <= 0 or temperatures.get(name, 0.0) >= target - REHEAT_MARGIN:
            continue
        if name == "heater_bed":
            lines.append(f"M190 S{target:g}")
        elif name.startswith("extruder"):
            tool = int(name[len("extruder"):] or 0)
            lines.append(f"M109 T{tool} S{target:g}")
    return lines


def return_script(
    saved: GcodeState, cfg: PauseResumeSection, temperatures: dict[str, float]
) -> str:
    x, y, z, e = saved.position
    lines = reheat_lines(saved, temperatures)
    lines += [
        "G90",
        f"G1 X{x:.4f} Y{y:.4f} F{cfg.park_speed * 60:.0f}",
        f"G1 Z{z:.4f} F600",
        "M83",
    ]
    if cfg.retract_length:
        lines.append(f"G1 E{cfg.retract_length:.4f} F{cfg.retract_speed * 60:.0f}")
    if saved.absolute_extrude:
        lines.append("M82")
    lines.append(f"G92 E{e:.5f}")
    if not saved.absolute_coordinates:
        lines += mode_lines(False, saved.absolute_extrude)
    lines.append(f"G1 F{saved.feedrate:.0f}")
    return "\n".join(lines)


def lift_script(current_z: float, cfg: PauseResumeSection, pcfg: PrinterSection) -> str:
    lift = max(0.0, min(cfg.lift_z, pcfg.z_max - current_z))
    return f"G91\nG1 Z{lift:.4f} F600\nG90"
