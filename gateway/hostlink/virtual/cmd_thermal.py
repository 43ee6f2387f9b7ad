"""Temperature and fan commands: M104/M109/M140/M190/M141/M191/M105/M155/M106/M107/M302."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from .parser import Gcode
from .thermal import Heater

if TYPE_CHECKING:
    from .firmware import Firmware


def _extruder(fw: Firmware, gc: Gcode) -> int | None:
    e = gc.int("T") if gc.has_value("T") else fw.active_extruder
    if e >= len(fw.thermal.hotends) or e < 0:
        fw.echo(f"M{gc.code} Invalid extruder {e}")
        return None
    return e


def m104(fw: Firmware, gc: Gcode) -> None:
    e = _extruder(fw, gc)
    if e is not None and gc.has_value("S"):
        fw.thermal.hotends[e].target = max(0.0, gc.float("S"))


def m140(fw: Firmware, gc: Gcode) -> None:
    if fw.thermal.bed is not None and gc.has_value("S"):
        fw.thermal.bed.target = max(0.0, gc.float("S"))


def _wait(
    fw: Firmware, heater: Heater, report_extruder: int, residency: float, no_wait_for_cooling: bool
) -> None:
    """Marlin's ``wait_for_hotend``/``wait_for_bed`` with residency and ``W:`` countdown."""
    cfg = fw.cfg
    scale = fw.scale
    target = heater.target
    wants_to_cool = heater.temp > target
    if no_wait_for_cooling and wants_to_cool:
        return
    fw.wait_for_heatup = True
    residency_start: float | None = None
    first_loop = True
    next_report = time.monotonic()
    try:
        while fw.wait_for_heatup:
            fw.service()
            now = time.monotonic()
            if now >= next_report:
                next_report = now + 1.0 / scale
                if residency_start is None:
                    w = "?"
                else:
                    # never negative: Marlin's loop ends the wait before it could be,
                    # the simulator's thread may be woken late on a loaded machine
                    w = str(max(0, int(residency - (now - residency_start) * scale)))
                fw.emit(fw.thermal.report(report_extruder) + " W:" + w)
            diff = abs(target - heater.temp)
            if residency_start is None:
                if diff < cfg.temp_window:
                    residency_start = now + (residency / 3 / scale if first_loop else 0.0)
            elif diff > cfg.temp_hysteresis:
                residency_start = now
            if residency_start is not None and now - residency_start > residency / scale:
                break
            cold = cfg.ambient_temp
            if wants_to_cool and target < cold + 5 and heater.temp < cold + 8:
                break
            first_loop = False
            fw.sleep(min(next_report, now + 0.25 / scale))
    finally:
        fw.wait_for_heatup = False
    fw.planner.excuse()


def _set_and_wait(fw: Firmware, gc: Gcode, heater: Heater, report_extruder: int,
                  residency: float) -> None:
    """M109/M190/M191: S sets the target and waits only while heating, R waits either
    way; with neither, nothing happens (as in Marlin)."""
    no_wait_for_cooling = gc.has_value("S")
    if not (no_wait_for_cooling or gc.has_value("R")):
        return
    heater.target = max(0.0, gc.float("S" if no_wait_for_cooling else "R"))
    _wait(fw, heater, report_extruder, residency, no_wait_for_cooling)


def m109(fw: Firmware, gc: Gcode) -> None:
    e = _extruder(fw, gc)
    if e is None:
        return
    _set_and_wait(fw, gc, fw.thermal.hotends[e], e, fw.cfg.temp_residency_time)


def m190(fw: Firmware, gc: Gcode) -> None:
    bed = fw.thermal.bed
    if bed is None:
        return
    _set_and_wait(fw, gc, bed, fw.active_extruder, fw.cfg.bed_residency_time)


def m141(fw: Firmware, gc: Gcode) -> None:
    if fw.thermal.chamber is not None and gc.has_value("S"):
        fw.thermal.chamber.target = max(0.0, gc.float("S"))


def m191(fw: Firmware, gc: Gcode) -> None:
    chamber = fw.thermal.chamber
    if chamber is None:
        return
    _set_and_wait(fw, gc, chamber, fw.active_extruder, fw.cfg.bed_residency_time)


def m105(fw: Firmware, gc: Gcode) -> bool:
    e = _extruder(fw, gc)
    if e is None:
        return False
    fw.thermal.update(time.monotonic())
    fw.emit("ok" + fw.thermal.report(e))
    return True  # M105 sends its own "ok" (without ADVANCED_OK fields)


def m155(fw: Firmware, gc: Gcode) -> None:
    if gc.has("S"):
        fw.temp_interval = max(0.0, gc.float("S"))
        fw.next_temp = time.monotonic() + fw.temp_interval / fw.scale


def m106(fw: Firmware, gc: Gcode) -> None:
    fw.fans[gc.int("P")] = min(255, max(0, gc.int("S", 255) if gc.has_value("S") else 255))


def m107(fw: Firmware, gc: Gcode) -> None:
    fw.fans[gc.int("P")] = 0


def m302(fw: Firmware, gc: Gcode) -> None:
    if gc.has("S") or gc.has("P"):
        if gc.has_value("P"):
            fw.allow_cold_extrusion = gc.int("P") == 1
        elif gc.has("S"):
            fw.allow_cold_extrusion = gc.float("S") <= 0
        return
    state = "en" if fw.allow_cold_extrusion else "dis"
    fw.echo(f"Cold extrudes are {state}abled (min temp {fw.cfg.extrude_mintemp:.0f}C)")


TABLE = {
    ("M", 104): m104,
    ("M", 109): m109,
    ("M", 140): m140,
    ("M", 190): m190,
    ("M", 105): m105,
    ("M", 106): m106,
    ("M", 107): m107,
    ("M", 302): m302,
}
AUTOREPORT_TEMP_TABLE = {("M", 155): m155}
# HEATED_CHAMBER builds only: elsewhere M141/M191 are unknown commands
CHAMBER_TABLE = {("M", 141): m141, ("M", 191): m191}
