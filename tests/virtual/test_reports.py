"""Temperatures, busy keepalive, auto-reports and the information commands."""

from __future__ import annotations

import re

from gateway.hostlink.virtual import VirtualPrinter

from .conftest import Host, PrinterFactory

TEMP_RE = re.compile(r"^T:(\d+\.\d\d) /(\d+\.\d\d) B:(\d+\.\d\d) /(\d+\.\d\d) @:(\d+) B@:(\d+)")


def test_m105_reports_temperatures(printer: tuple[VirtualPrinter, Host]) -> None:
    _, host = printer
    host.command("M104 S200")
    host.command("M140 S60")
    line = host.command("M105")[-1]
    assert re.fullmatch(r"ok T:\d+\.\d\d /200\.00 B:\d+\.\d\d /60\.00 @:\d+ B@:\d+", line), line


def test_m109_busy_and_wait_lines(make_printer: PrinterFactory) -> None:
    vp, host = make_printer(time_scale=40.0)
    got = host.command("M109 S210", timeout=10)
    assert got[-1] == "ok P15 B3"
    assert "echo:busy: processing" in got
    waits = [s for s in got if " W:" in s]
    assert waits and TEMP_RE.match(waits[0]) and waits[0].endswith("W:?")
    assert re.search(r"W:\d+$", waits[-1])
    final = TEMP_RE.match(waits[-1])
    assert final and abs(float(final.group(1)) - 210) < 1.0
    assert vp.executed == ["M109 S210"]


def test_m190_waits_for_bed(make_printer: PrinterFactory) -> None:
    _, host = make_printer(time_scale=100.0)
    got = host.command("M190 S60", timeout=10)
    last = TEMP_RE.match([s for s in got if " W:" in s][-1])
    assert last and abs(float(last.group(3)) - 60) < 1.0


def test_m108_breaks_heating_wait(make_printer: PrinterFactory) -> None:
    _, host = make_printer(time_scale=1.0)
    host.send("M109 S250")
    host.expect(lambda s: s.endswith("W:?"))
    host.send("M108")
    assert host.expect_ok()[-1] == "ok P15 B3"  # the M109's ok
    assert host.expect_ok()[-1] == "ok P15 B3"  # the queued M108 is a no-op with an ok


def test_temperature_autoreport(make_printer: PrinterFactory) -> None:
    _, host = make_printer(time_scale=10.0)
    host.command("M155 S1")
    for _ in range(2):  # unsolicited, without any M105
        host.expect(lambda s: bool(TEMP_RE.match(s)), timeout=1)
    host.command("M155 S0")
    late = host.silent_for(0.3)
    assert not any(TEMP_RE.match(s) for s in late[1:]), late


def test_position_autoreport_and_m114(make_printer: PrinterFactory) -> None:
    _, host = make_printer(time_scale=10.0)
    host.command("G1 X12.5 Y7 Z0.3 F6000")
    assert host.command("M114")[0] == "X:12.50 Y:7.00 Z:0.30 E:0.00 Count X:1000 Y:560 Z:120"
    host.command("M154 S1")
    host.expect(lambda s: s.startswith("X:12.50 Y:7.00"), timeout=1)
    host.command("M154 S0")


def test_m115_capabilities(make_printer: PrinterFactory) -> None:
    _, host = make_printer(advanced_ok=False, emergency_parser=False, extruder_count=2)
    got = host.command("M115")
    assert got[0].startswith("FIRMWARE_NAME:Marlin 2.1")
    assert "(Virtual)" in got[0] and "EXTRUDER_COUNT:2" in got[0]
    caps = dict(s[4:].rsplit(":", 1) for s in got if s.startswith("Cap:"))
    for name in (
        "AUTOREPORT_TEMP",
        "AUTOREPORT_POS",
        "EXTENDED_M20",
        "HOST_ACTION_COMMANDS",
        "PROMPT_SUPPORT",
        "SDCARD",
    ):
        assert caps[name] == "1", name
    assert caps["ADVANCED_OK"] == "0" and caps["EMERGENCY_PARSER"] == "0"
    assert got[-1] == "ok"


def test_two_extruders_report_t0_t1(make_printer: PrinterFactory) -> None:
    _, host = make_printer(extruder_count=2)
    host.command("M104 T1 S180")
    line = host.command("M105")[-1]
    assert " T0:22.00 /0.00 T1:" in line and "/180.00" in line and " @0:0 @1:" in line


def test_m119_m220_m221(printer: tuple[VirtualPrinter, Host]) -> None:
    _, host = printer
    assert host.command("M119")[:4] == [
        "Reporting endstop status",
        "x_min: open",
        "y_min: open",
        "z_min: open",
    ]
    host.command("M220 S150")
    assert host.command("M220")[0] == "FR:150%"
    assert host.command("M221")[0] == "echo:E0 Flow: 100%"


def test_cold_extrusion_prevented(printer: tuple[VirtualPrinter, Host]) -> None:
    _, host = printer
    assert host.command("G1 E5 F300")[0] == "echo: cold extrusion prevented"


CHAMBER_RE = re.compile(r" C:(\d+\.\d\d) /(\d+\.\d\d) @:\d+ B@:\d+ C@:(\d+)$")


def test_a_heated_chamber_takes_m141_m191_and_reports_c(make_printer: PrinterFactory) -> None:
    vp, host = make_printer(time_scale=200.0, heated_chamber=True)
    assert "Cap:CHAMBER_TEMPERATURE:1" in host.command("M115")
    host.command("M141 S40")
    line = host.command("M105")[-1]
    assert (match := CHAMBER_RE.search(line)) and match.group(2) == "40.00", line
    got = host.command("M191 S35", timeout=10)  # waits, reporting the chamber, like M190
    assert any(" W:" in s for s in got)
    reached = CHAMBER_RE.search(host.command("M105")[-1])
    assert reached and abs(float(reached.group(1)) - 35) < 1.0 and reached.group(2) == "35.00"
    host.command("M155 S1")  # the auto-report carries it too
    host.expect(lambda s: bool(CHAMBER_RE.search(s)) and s.startswith("T:"), timeout=2)
    assert vp.executed[:3] == ["M115", "M141 S40", "M105"]
    assert vp.firmware.thermal.chamber is not None
    assert vp.firmware.thermal.chamber.target == 35.0


def test_without_a_heated_chamber_m141_is_unknown(printer: tuple[VirtualPrinter, Host]) -> None:
    _, host = printer
    assert "Cap:CHAMBER_TEMPERATURE:0" in host.command("M115")
    assert host.command("M141 S40")[0] == 'echo:Unknown command: "M141 S40"'
    assert " C:" not in host.command("M105")[-1]
