"""Host-facing commands: identity, reports, prompts, pauses, emergencies and odds and ends."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from . import cmd_tuning, hostui, intake
from .parser import Gcode

if TYPE_CHECKING:
    from .firmware import Firmware


def m110(fw: Firmware, gc: Gcode) -> None:
    if gc.has_value("N"):
        fw.last_n = gc.int("N")


def m115(fw: Firmware, gc: Gcode) -> None:
    c = fw.cfg
    fw.emit(
        f"FIRMWARE_NAME:Marlin {c.firmware_version} (Virtual) "
        "SOURCE_CODE_URL:github.com/MarlinFirmware/Marlin PROTOCOL_VERSION:1.0 "
        f"MACHINE_TYPE:{c.machine_type} EXTRUDER_COUNT:{max(1, c.extruder_count)} UUID:{c.uuid}"
    )
    host = c.host_action_commands
    caps = [
        ("SERIAL_XON_XOFF", False),
        ("BINARY_FILE_TRANSFER", False),
        ("EEPROM", True),
        ("VOLUMETRIC", True),
        ("AUTOREPORT_POS", c.autoreport_pos),
        ("AUTOREPORT_TEMP", c.autoreport_temp),
        ("PROGRESS", False),
        ("PRINT_JOB", True),
        ("AUTOLEVEL", False),
        ("RUNOUT", False),
        ("Z_PROBE", False),
        ("LEVELING_DATA", False),
        ("BUILD_PERCENT", True),
        ("SOFTWARE_POWER", c.software_power),
        ("TOGGLE_LIGHTS", False),
        ("CASE_LIGHT_BRIGHTNESS", False),
        ("EMERGENCY_PARSER", c.emergency_parser),
        ("HOST_ACTION_COMMANDS", host),
        ("PROMPT_SUPPORT", host and c.prompt_support),
        ("SDCARD", c.sdcard),
        ("REPEAT", False),
        ("SD_WRITE", c.sdcard),
        ("AUTOREPORT_SD_STATUS", c.sdcard and c.autoreport_sd_status),
        ("LONG_FILENAME", c.sdcard),
        ("LFN_WRITE", False),
        ("CUSTOM_FIRMWARE_UPLOAD", False),
        ("EXTENDED_M20", c.sdcard),
        ("THERMAL_PROTECTION", True),
        ("MOTION_MODES", False),
        ("ARCS", True),
        ("BABYSTEPPING", c.babystepping),
        ("CHAMBER_TEMPERATURE", c.heated_chamber),
        ("COOLER_TEMPERATURE", False),
        ("MEATPACK", c.meatpack),
        ("CONFIG_EXPORT", False),
        ("ADVANCED_OK", c.advanced_ok),
    ]
    for name, on in caps:
        fw.emit(f"Cap:{name}:{int(on)}")
    x, y, z = c.bed_size
    fw.emit(
        "area:{full:{min:{x:0.000,y:0.000,z:0.000},"
        f"max:{{x:{x:.3f},y:{y:.3f},z:{z:.3f}}}}},"
        "work:{min:{x:0.000,y:0.000,z:0.000},"
        f"max:{{x:{x:.3f},y:{y:.3f},z:{z:.3f}}}}}}}"
    )


def m119(fw: Firmware, gc: Gcode) -> None:
    fw.emit("Reporting endstop status")
    for i, name in enumerate(("x_min", "y_min", "z_min")):
        hit = i in fw.homed and fw.pos[i] <= 0.0
        fw.emit(f"{name}: {'TRIGGERED' if hit else 'open'}")


def m117(fw: Firmware, gc: Gcode) -> None:
    if fw.cfg.host_action_commands and gc.string_arg:
        fw.emit("//action:notification " + gc.string_arg)


def m118(fw: Firmware, gc: Gcode) -> None:
    text = gc.string_arg
    prefix = ""
    while len(text) >= 2 and text[0] in "AEP" and text[1].isdigit():
        if text[0] == "E" and text[1] == "1":
            prefix = "echo:"
        elif text[0] == "A" and text[1] == "1":
            prefix = "//"
        text = text[2:].lstrip()
    fw.emit(prefix + text)


def m73(fw: Firmware, gc: Gcode) -> None:
    if gc.has_value("P"):
        fw.progress = gc.int("P")


def silent(fw: Firmware, gc: Gcode) -> None:
    """Commands that change nothing observable here (M300, M75-M77, M17, G21 ...)."""


def m0_m1(fw: Firmware, gc: Gcode) -> None:
    ms = gc.float("P") if gc.has_value("P") else gc.float("S") * 1000.0
    fw.synchronize()
    hostui.prompt(fw, "continue", gc.string_arg or "Click to Resume...", ["Continue"])
    deadline = time.monotonic() + ms / 1000.0 / fw.scale if ms > 0 else None
    fw.wait_for_user = True
    fw.busy = "paused for user"
    try:
        fw.wait_until(
            lambda: not fw.wait_for_user or (deadline is not None and time.monotonic() >= deadline),
            lambda: deadline,
        )
    finally:
        fw.wait_for_user = False
        fw.busy = "processing"
    hostui.prompt_end(fw)
    fw.planner.excuse()


def m600(fw: Firmware, gc: Gcode) -> None:
    fw.synchronize()
    hostui.action(fw, "paused")
    fw.echo("Insert filament and send M108")
    hostui.prompt(fw, "filament", "Nozzle Parked", ["Continue"])
    fw.wait_for_user = True
    fw.busy = "paused for user"
    try:
        fw.wait_until(lambda: not fw.wait_for_user)
    finally:
        fw.wait_for_user = False
        fw.busy = "processing"
    hostui.prompt_end(fw)
    hostui.action(fw, "resumed")
    fw.planner.excuse()


def m876(fw: Firmware, gc: Gcode) -> None:
    if gc.has_value("S"):
        intake.host_response(fw, gc.int("S"))


def m108(fw: Firmware, gc: Gcode) -> None:
    fw.wait_for_heatup = False
    fw.wait_for_user = False


def m112(fw: Firmware, gc: Gcode) -> None:
    fw.kill()


def m999(fw: Firmware, gc: Gcode) -> None:
    fw.halted = False
    if gc.has_value("S") and gc.int("S"):
        return
    intake.request_resend(fw)


def m113(fw: Firmware, gc: Gcode) -> None:
    if gc.has("S"):
        fw.keepalive_interval = max(0.0, min(60.0, gc.float("S")))
    else:
        fw.echo(f"M113 S{fw.keepalive_interval:g}")


def m31(fw: Firmware, gc: Gcode) -> None:
    fw.echo("Print time: 0s")


def m500(fw: Firmware, gc: Gcode) -> None:
    fw.echo("Settings Stored (642 bytes; crc 36738)")


def m501(fw: Firmware, gc: Gcode) -> None:
    fw.echo("V86 stored settings retrieved (642 bytes; crc 36738)")


def m502(fw: Firmware, gc: Gcode) -> None:
    fw.echo("Hardcoded Default Settings Loaded")


def m503(fw: Firmware, gc: Gcode) -> None:
    c = fw.cfg
    s = c.steps_per_mm
    f = fw.max_feedrate
    a = fw.max_accel
    fw.echo("; Steps per unit:")
    fw.echo(f"  M92 X{s[0]:.2f} Y{s[1]:.2f} Z{s[2]:.2f} E{s[3]:.2f}")
    fw.echo("; Maximum feedrates (units/s):")
    fw.echo(f"  M203 X{f[0]:.2f} Y{f[1]:.2f} Z{f[2]:.2f} E{f[3]:.2f}")
    fw.echo("; Maximum Acceleration (units/s2):")
    fw.echo(f"  M201 X{a[0]:.2f} Y{a[1]:.2f} Z{a[2]:.2f} E{a[3]:.2f}")
    fw.echo("; Acceleration (units/s2) (P<print-accel> R<retract-accel> T<travel-accel>):")
    fw.echo(f"  M204 P{fw.accel:.2f} R{fw.retract_accel:.2f} T{fw.travel_accel:.2f}")
    cmd_tuning.report(fw)


def m80(fw: Firmware, gc: Gcode) -> None:
    if gc.has("S"):
        fw.emit("PS:1" if fw.psu_on else "PS:0")
        return
    fw.psu_on = True


def m81(fw: Firmware, gc: Gcode) -> None:
    # Marlin finishes the moves, turns the heaters and steppers off, then the supply
    fw.synchronize()
    fw.thermal.all_off()
    fw.psu_on = False


def tool_change(fw: Firmware, gc: Gcode) -> None:
    if gc.code >= len(fw.thermal.hotends):
        fw.echo(f"T{gc.code} Invalid extruder")
        return
    if gc.code != fw.active_extruder:
        fw.synchronize()
        fw.active_extruder = gc.code
        fw.echo(f"Active Extruder: {gc.code}")


TABLE = {
    ("M", 110): m110,
    ("M", 115): m115,
    ("M", 119): m119,
    ("M", 117): m117,
    ("M", 118): m118,
    ("M", 73): m73,
    ("M", 300): silent,
    # a NeoPixel on the board (NEOPIXEL_LED): the colour has nothing to simulate
    ("M", 150): silent,
    ("M", 75): silent,
    ("M", 76): silent,
    ("M", 77): silent,
    ("M", 17): silent,
    ("M", 0): m0_m1,
    ("M", 1): m0_m1,
    ("M", 600): m600,
    ("M", 108): m108,
    ("M", 112): m112,
    ("M", 999): m999,
    ("M", 113): m113,
    ("M", 31): m31,
    ("M", 500): m500,
    ("M", 501): m501,
    ("M", 502): m502,
    ("M", 503): m503,
}
PROMPT_TABLE = {("M", 876): m876}
POWER_TABLE = {("M", 80): m80, ("M", 81): m81}
