"""Motion commands: G0-G4, G28, G90-G92, M82/M83, M114, M154, M400, M18/M84, M2xx limits."""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING

from .parser import Gcode
from .planner import Block

if TYPE_CHECKING:
    from .firmware import Firmware

_AXES = "XYZE"
_EPS = 1e-9


def position_report(fw: Firmware) -> str:
    """``report_current_position_projected``: logical position plus step counts."""
    x, y, z, e = fw.pos
    spm = fw.cfg.steps_per_mm
    counts = [round(v * spm[i]) for i, v in enumerate((x, y, z))]
    return (
        f"X:{x:.2f} Y:{y:.2f} Z:{z:.2f} E:{e:.2f} Count X:{counts[0]} Y:{counts[1]} Z:{counts[2]}"
    )


def buffer_line(fw: Firmware, target: list[float], feedrate: float) -> None:
    """Plan a move to ``target`` at ``feedrate`` mm/s; blocks while the planner is full."""
    cfg = fw.cfg
    for i in range(3):
        if i in fw.homed:
            target[i] = min(max(target[i], 0.0), cfg.bed_size[i])
    start = (fw.pos[0], fw.pos[1], fw.pos[2], fw.pos[3])
    d = [target[i] - start[i] for i in range(4)]
    if d[3] != 0 and not fw.allow_cold_extrusion:
        he = fw.thermal.hotends[fw.active_extruder]
        if he.temp < cfg.extrude_mintemp:
            fw.echo(" cold extrusion prevented")
            d[3] = 0.0
    de = d[3] * fw.flow_pct[fw.active_extruder] / 100.0
    spm = cfg.steps_per_mm
    moving = any(abs(d[i] * spm[i]) >= 0.5 for i in range(3)) or abs(de * spm[3]) >= 0.5
    fw.pos = list(target)
    if not moving:
        return
    xyz = math.sqrt(d[0] ** 2 + d[1] ** 2 + d[2] ** 2)
    comps = [abs(d[0]), abs(d[1]), abs(d[2]), abs(de)]
    if xyz > _EPS:
        length = xyz
        unit = (d[0] / xyz, d[1] / xyz, d[2] / xyz)
        accel = fw.travel_accel if de == 0 else fw.accel
    else:
        length = abs(de)
        unit = (0.0, 0.0, 0.0)
        accel = fw.retract_accel
    v = max(feedrate, 0.01)
    for i in range(4):
        share = comps[i] / length
        if share * v > fw.max_feedrate[i]:
            v = fw.max_feedrate[i] / share
        if share * accel > fw.max_accel[i]:
            accel = fw.max_accel[i] / share
    block = Block(
        start=start,
        end=(target[0], target[1], target[2], target[3]),
        length=length,
        unit=unit,
        v_nominal=v,
        accel=accel,
        appended=0.0,
    )
    planner = fw.planner
    if planner.full():
        fw.wait_until(lambda: not planner.full(), planner.next_event)
    now = time.monotonic()
    block.appended = now
    planner.append(block, now)


def _target(fw: Firmware, gc: Gcode) -> list[float]:
    target = list(fw.pos)
    for i, ax in enumerate(_AXES):
        if gc.has_value(ax):
            v = gc.float(ax)
            rel = fw.e_relative if ax == "E" else fw.relative
            target[i] = target[i] + v if rel else v
    if gc.has_value("F"):
        fw.feedrate = gc.float("F") / 60.0
    return target


def _feed(fw: Firmware) -> float:
    return fw.feedrate * fw.feedrate_pct / 100.0


def g0_g1(fw: Firmware, gc: Gcode) -> None:
    buffer_line(fw, _target(fw, gc), _feed(fw))


def g2_g3(fw: Firmware, gc: Gcode) -> None:
    start = list(fw.pos)
    target = _target(fw, gc)
    clockwise = gc.code == 2
    if gc.has_value("R"):
        r = gc.float("R")
        dx, dy = target[0] - start[0], target[1] - start[1]
        dist = math.hypot(dx, dy)
        if dist < _EPS or abs(r) < dist / 2:
            fw.emit("Error:G2/G3 bad parameters")
            return
        h = math.sqrt(max(0.0, r * r - (dist / 2) ** 2))
        if clockwise == (r < 0):
            h = -h
        mx, my = start[0] + dx / 2, start[1] + dy / 2
        cx, cy = mx - h * dy / dist, my + h * dx / dist
    else:
        cx, cy = start[0] + gc.float("I"), start[1] + gc.float("J")
    radius = math.hypot(start[0] - cx, start[1] - cy)
    a0 = math.atan2(start[1] - cy, start[0] - cx)
    a1 = math.atan2(target[1] - cy, target[0] - cx)
    sweep = a1 - a0
    if clockwise:
        if sweep >= -_EPS:
            sweep -= 2 * math.pi
    elif sweep <= _EPS:
        sweep += 2 * math.pi
    arc_len = abs(sweep) * radius
    length = math.hypot(arc_len, target[2] - start[2])
    segments = max(1, math.ceil(length / max(fw.cfg.mm_per_arc_segment, 0.01)))
    feed = _feed(fw)
    for k in range(1, segments + 1):
        f = k / segments
        if k == segments:
            point = list(target)
        else:
            ang = a0 + sweep * f
            point = [
                cx + radius * math.cos(ang),
                cy + radius * math.sin(ang),
                start[2] + (target[2] - start[2]) * f,
                start[3] + (target[3] - start[3]) * f,
            ]
        buffer_line(fw, point, feed)


def g4(fw: Firmware, gc: Gcode) -> None:
    ms = gc.float("P") if gc.has_value("P") else gc.float("S") * 1000.0
    fw.synchronize()
    if ms > 0:
        fw.wait_time(ms / 1000.0 / fw.scale)
    fw.planner.excuse()


def g28(fw: Firmware, gc: Gcode) -> None:
    fw.synchronize()
    axes = [i for i, ax in enumerate("XYZ") if gc.has(ax)] or [0, 1, 2]
    cfg = fw.cfg
    seconds = 0.0
    for i in axes:
        speed = cfg.homing_feedrate[i]
        bump = 2.0 if i == 2 else 5.0
        seconds += abs(fw.pos[i]) / speed + bump / speed + bump / (speed / 2)
    fw.wait_time(seconds / fw.scale)
    with fw.lock:
        fw.stats.motion_time += seconds
    for i in axes:
        # at the endstop: the logical position is the home offset (M206)
        fw.pos[i] = fw.tuning.home_offset[i]
        fw.homed.add(i)
    fw.planner.excuse()


def g90(fw: Firmware, gc: Gcode) -> None:
    fw.relative = fw.e_relative = False


def g91(fw: Firmware, gc: Gcode) -> None:
    fw.relative = fw.e_relative = True


def g92(fw: Firmware, gc: Gcode) -> None:
    fw.planner.update(time.monotonic())
    for i, ax in enumerate(_AXES):
        if gc.has(ax):
            fw.pos[i] = gc.float(ax)


def m82(fw: Firmware, gc: Gcode) -> None:
    fw.e_relative = False


def m83(fw: Firmware, gc: Gcode) -> None:
    fw.e_relative = True


def m114(fw: Firmware, gc: Gcode) -> None:
    fw.emit(position_report(fw))


def m154(fw: Firmware, gc: Gcode) -> None:
    fw.pos_interval = max(0.0, gc.float("S"))
    fw.next_pos = time.monotonic() + fw.pos_interval / fw.scale


def m400(fw: Firmware, gc: Gcode) -> None:
    fw.synchronize()
    fw.planner.excuse()


def m18_m84(fw: Firmware, gc: Gcode) -> None:
    if gc.has("S"):
        return  # only sets the idle timeout
    fw.synchronize()
    fw.homed.clear()
    fw.planner.excuse()


def m220(fw: Firmware, gc: Gcode) -> None:
    if gc.has_value("S"):
        fw.feedrate_pct = max(1, gc.int("S"))
    else:
        fw.emit(f"FR:{fw.feedrate_pct}%")


def m221(fw: Firmware, gc: Gcode) -> None:
    e = gc.int("T", fw.active_extruder) if gc.has_value("T") else fw.active_extruder
    if e >= len(fw.flow_pct):
        fw.echo(f"T{e} Invalid extruder")
        return
    if gc.has_value("S"):
        fw.flow_pct[e] = max(1, gc.int("S"))
    else:
        fw.echo(f"E{e} Flow: {fw.flow_pct[e]}%")


def m201(fw: Firmware, gc: Gcode) -> None:
    for i, ax in enumerate(_AXES):
        if gc.has_value(ax):
            fw.max_accel[i] = max(1.0, gc.float(ax))


def m203(fw: Firmware, gc: Gcode) -> None:
    for i, ax in enumerate(_AXES):
        if gc.has_value(ax):
            fw.max_feedrate[i] = max(0.1, gc.float(ax))


def m204(fw: Firmware, gc: Gcode) -> None:
    if gc.has_value("S"):
        fw.accel = fw.travel_accel = max(1.0, gc.float("S"))
    if gc.has_value("P"):
        fw.accel = max(1.0, gc.float("P"))
    if gc.has_value("R"):
        fw.retract_accel = max(1.0, gc.float("R"))
    if gc.has_value("T"):
        fw.travel_accel = max(1.0, gc.float("T"))


def m410(fw: Firmware, gc: Gcode) -> None:
    fw.quick_stop()


TABLE = {
    ("G", 0): g0_g1,
    ("G", 1): g0_g1,
    ("G", 2): g2_g3,
    ("G", 3): g2_g3,
    ("G", 4): g4,
    ("G", 28): g28,
    ("G", 90): g90,
    ("G", 91): g91,
    ("G", 92): g92,
    ("M", 82): m82,
    ("M", 83): m83,
    ("M", 114): m114,
    ("M", 400): m400,
    ("M", 18): m18_m84,
    ("M", 84): m18_m84,
    ("M", 220): m220,
    ("M", 221): m221,
    ("M", 201): m201,
    ("M", 203): m203,
    ("M", 204): m204,
    ("M", 410): m410,
}
AUTOREPORT_POS_TABLE = {("M", 154): m154}
