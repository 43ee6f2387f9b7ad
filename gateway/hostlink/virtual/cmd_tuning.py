"""Tuning and safety commands: M211 soft endstops, M205 junction deviation, M206 home
offset, M900 linear advance, M290 babystepping (BABYSTEPPING builds), M486 object
cancelling (CANCEL_OBJECTS builds)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .parser import Gcode

if TYPE_CHECKING:
    from .firmware import Firmware


def m211(fw: Firmware, gc: Gcode) -> None:
    if gc.has_value("S"):
        fw.tuning.soft_endstops = gc.int("S") != 0
    x, y, z = fw.cfg.bed_size
    state = "On" if fw.tuning.soft_endstops else "Off"
    fw.echo(f"Soft endstops: {state}  Min:  X0.00 Y0.00 Z0.00   "
            f"Max:  X{x:.2f} Y{y:.2f} Z{z:.2f}")


def m205(fw: Firmware, gc: Gcode) -> None:
    if gc.has_value("J"):
        fw.tuning.junction_deviation = gc.float("J")


def m206(fw: Firmware, gc: Gcode) -> None:
    t = fw.tuning
    if not any(gc.has_value(a) for a in "XYZ"):
        fw.echo("; Home offset:")
        x, y, z = t.home_offset
        fw.echo(f"  M206 X{x:.2f} Y{y:.2f} Z{z:.2f}")
        return
    for i, axis in enumerate("XYZ"):
        if gc.has_value(axis):
            value = gc.float(axis)
            # the logical position shifts by the change; the head does not move
            fw.pos[i] += value - t.home_offset[i]
            t.home_offset[i] = value


def report(fw: Firmware) -> None:
    """This module's lines of the M503 report."""
    t = fw.tuning
    fw.echo("; Advanced: B<min_segment_time_us> S<min_feedrate> T<min_travel_feedrate> "
            "J<junc_dev>")
    fw.echo(f"  M205 B20000.00 S0.00 T0.00 J{t.junction_deviation:.3f}")
    x, y, z = t.home_offset
    fw.echo("; Home offset:")
    fw.echo(f"  M206 X{x:.2f} Y{y:.2f} Z{z:.2f}")
    fw.echo("; Linear Advance:")
    fw.echo(f"  M900 K{t.advance_k:.2f}")


def m900(fw: Firmware, gc: Gcode) -> None:
    if gc.has_value("K"):
        fw.tuning.advance_k = gc.float("K")
    else:
        fw.echo(f"Advance K={fw.tuning.advance_k:g}")


def m290(fw: Firmware, gc: Gcode) -> None:
    # the nozzle moves; the logical position does not
    for axis in "XYZ":
        if gc.has_value(axis):
            fw.tuning.babystep[axis] = fw.tuning.babystep.get(axis, 0.0) + gc.float(axis)
    if gc.has_value("S"):
        fw.tuning.babystep["Z"] = fw.tuning.babystep.get("Z", 0.0) + gc.float("S")


def m486(fw: Firmware, gc: Gcode) -> None:
    t = fw.tuning
    if gc.has_value("T"):
        t.object_count = gc.int("T")
        t.cancelled.clear()
        t.current_object = -1
    if gc.has_value("S"):
        t.current_object = gc.int("S")
    if gc.has_value("P"):
        t.cancelled.add(gc.int("P"))
    if gc.has_value("U"):
        t.cancelled.discard(gc.int("U"))
    if gc.has("C") and t.current_object >= 0:
        t.cancelled.add(t.current_object)


class Tuning:
    """State of these commands (reset with the firmware)."""

    def __init__(self) -> None:
        self.soft_endstops = True
        self.junction_deviation = 0.013
        self.advance_k = 0.0
        self.home_offset = [0.0, 0.0, 0.0]
        self.babystep: dict[str, float] = {}
        self.object_count = 0
        self.current_object = -1
        self.cancelled: set[int] = set()

    @property
    def skipping(self) -> bool:
        """Inside a cancelled object: its moves are not made (M486)."""
        return self.current_object in self.cancelled


TABLE = {("M", 211): m211, ("M", 205): m205, ("M", 206): m206, ("M", 900): m900}
BABYSTEP_TABLE = {("M", 290): m290}
CANCEL_OBJECTS_TABLE = {("M", 486): m486}
