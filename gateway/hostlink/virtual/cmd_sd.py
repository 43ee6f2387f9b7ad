"""SD card commands: M20-M30, M524 and the M28 write mode."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from . import hostui
from .parser import Gcode, command_text

if TYPE_CHECKING:
    from .firmware import Command, Firmware


def is_m29(cmd: str) -> bool:
    """``M29`` or ``M29 `` but not ``M290`` (Marlin's test, anywhere in the line)."""
    i = cmd.find("M29")
    return i >= 0 and not cmd[i + 3 : i + 4].isdigit()


def sd_report(fw: Firmware) -> None:
    sd = fw.sd
    if sd.selected is not None and (sd.printing or sd.pos > 0):
        fw.emit(f"SD printing byte {sd.pos}/{sd.size}")
    else:
        fw.emit("Not SD printing")


def sd_abort(fw: Firmware) -> None:
    if fw.sd.selected is not None:
        fw.sd.close()
        fw.queue = type(fw.queue)(c for c in fw.queue if not c.from_sd)
        fw.planner.excuse()


def sd_write_line(fw: Firmware, cmd: Command) -> None:
    """While M28 is active lines go into the file; M29 closes it."""
    text = command_text(cmd.line)
    if is_m29(text):
        fw.sd.end_write()
        fw.emit("Done saving file.")
    else:
        fw.sd.write_line(text)
    fw.ok(cmd)


def m20(fw: Firmware, gc: Gcode) -> None:
    long_names = "L" in gc.text[3:].upper()
    fw.emit("Begin file list")
    for e in fw.sd.entries():
        fw.emit(f"{e.dos_path} {e.size}" + (f" {e.long_name}" if long_names else ""))
    fw.emit("End file list")


def m21(fw: Firmware, gc: Gcode) -> None:
    fw.echo("SD card ok")


def m22(fw: Firmware, gc: Gcode) -> None:
    fw.sd.close()
    fw.echo("SD card released")


def m23(fw: Firmware, gc: Gcode) -> None:
    entry = fw.sd.find(gc.string_arg)
    if entry is None:
        fw.emit(f"open failed, File: {gc.string_arg}.")
        return
    fw.sd.select(entry)
    fw.emit(f"File opened: {entry.dos_path} Size: {entry.size}")
    fw.emit("File selected")


def m24(fw: Firmware, gc: Gcode) -> None:
    if fw.sd.selected is not None:
        fw.sd.printing = True


def m25(fw: Firmware, gc: Gcode) -> None:
    if fw.sd.printing:
        fw.sd.printing = False
        if fw.cfg.prompt_support:
            hostui.prompt(fw, "pause_resume", "Pause SD", ["Resume"])


def m26(fw: Firmware, gc: Gcode) -> None:
    if fw.sd.selected is not None and gc.has_value("S"):
        fw.sd.pos = min(max(0, gc.int("S")), fw.sd.size)


def m27(fw: Firmware, gc: Gcode) -> None:
    if gc.has("C"):
        sel = fw.sd.selected
        if sel is None:
            fw.emit("(no file)")
        else:
            fw.emit(f"Current file: {sel.dos_path} {sel.long_name}")
        return
    if gc.has("S") and fw.cfg.autoreport_sd_status:
        fw.sd_interval = max(0.0, gc.float("S"))
        fw.next_sd = time.monotonic() + fw.sd_interval / fw.scale
        return
    sd_report(fw)


def m28(fw: Firmware, gc: Gcode) -> None:
    target = fw.sd.begin_write(gc.string_arg)
    fw.emit(f"Writing to file: {target.name}")


def m29(fw: Firmware, gc: Gcode) -> None:
    fw.sd.end_write()


def m30(fw: Firmware, gc: Gcode) -> None:
    entry = fw.sd.find(gc.string_arg)
    if entry is None:
        fw.emit(f"Deletion failed, File: {gc.string_arg}.")
        return
    if fw.sd.selected is not None and fw.sd.selected.path == entry.path:
        fw.sd.close()
    entry.path.unlink()
    fw.emit(f"File deleted:{entry.dos_path}")


def m524(fw: Firmware, gc: Gcode) -> None:
    sd_abort(fw)


TABLE = {
    ("M", 20): m20,
    ("M", 21): m21,
    ("M", 22): m22,
    ("M", 23): m23,
    ("M", 24): m24,
    ("M", 25): m25,
    ("M", 26): m26,
    ("M", 27): m27,
    ("M", 28): m28,
    ("M", 29): m29,
    ("M", 30): m30,
    ("M", 524): m524,
}
