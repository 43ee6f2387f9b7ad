"""Line numbers, checksums, resends and ok formats."""

from __future__ import annotations

import re
import signal
import subprocess
import sys

from gateway.hostlink.virtual import VirtualPrinter

from .conftest import Host, PrinterFactory, numbered


def test_numbered_line_ok_carries_advanced_fields(printer: tuple[VirtualPrinter, Host]) -> None:
    vp, host = printer
    host.send_n(1, "G1 X10 Y10 F3000")
    lines = host.expect_ok()
    assert re.fullmatch(r"ok N1 P1[45] B3", lines[-1]), lines
    host.send("M400")
    assert host.expect_ok()[-1] == "ok P15 B3"
    assert vp.executed == ["G1 X10 Y10 F3000", "M400"]


def test_plain_ok_without_advanced_ok(make_printer: PrinterFactory) -> None:
    _, host = make_printer(advanced_ok=False)
    host.send_n(1, "G90")
    assert host.expect_ok() == ["ok"]


def test_checksum_mismatch_requests_resend(printer: tuple[VirtualPrinter, Host]) -> None:
    vp, host = printer
    host.send("N1 G1 X5*0")
    assert host.expect_ok() == ["Error:checksum mismatch, Last Line: 0", "Resend: 1", "ok"]
    host.send_n(1, "G1 X5")
    assert host.expect_ok()[-1].startswith("ok N1 ")
    assert vp.executed == ["G1 X5"]
    s = vp.stats
    assert (s.checksum_errors, s.resends_requested) == (1, 1)


def test_line_number_and_missing_checksum_errors(printer: tuple[VirtualPrinter, Host]) -> None:
    vp, host = printer
    host.send_n(5, "G90")
    assert host.expect_ok() == [
        "Error:Line Number is not Last Line Number+1, Last Line: 0",
        "Resend: 1",
        "ok",
    ]
    host.send("N1 G90")
    assert host.expect_ok() == [
        "Error:No Checksum with line number, Last Line: 0",
        "Resend: 1",
        "ok",
    ]
    host.send_n(1, "G90")
    host.expect_ok()
    host.send_n(1, "G91")  # a duplicate is not executed twice
    assert host.expect_ok()[0].startswith("Error:Line Number is not")
    assert vp.executed == ["G90"]


def test_m110_sets_line_number_when_executed(printer: tuple[VirtualPrinter, Host]) -> None:
    vp, host = printer
    host.command("M110 N41")
    host.send_n(42, "G90")
    assert host.expect_ok()[-1].startswith("ok N42")
    host.send(numbered(100, "M110 N7"))
    host.expect_ok()
    host.send_n(8, "G91")
    assert host.expect_ok()[-1].startswith("ok N8")
    assert vp.executed == ["M110 N41", "G90", "M110 N7", "G91"]


def test_unnumbered_lines_and_comments(printer: tuple[VirtualPrinter, Host]) -> None:
    vp, host = printer
    host.send("; just a comment")  # Marlin answers nothing for an empty line
    host.send("G92 E0 ; reset extruder")
    assert host.expect_ok() == ["ok P15 B3"]
    assert vp.executed == ["G92 E0"]


def test_unknown_command(printer: tuple[VirtualPrinter, Host]) -> None:
    _, host = printer
    assert host.command("G999 X1") == ['echo:Unknown command: "G999 X1"', "ok P15 B3"]


def test_resent_lines_after_error_execute_once(printer: tuple[VirtualPrinter, Host]) -> None:
    """A host with several lines in flight: the lines behind a bad one are refused until
    it is resent."""
    vp, host = printer
    host.send("N1 G1 X1*0")
    for n in (2, 3):
        host.send_n(n, f"G1 X{n}")
    host.expect(lambda s: s.startswith("Resend: 1"))
    later = host.silent_for(0.2)
    assert not any(s.startswith("ok N") for s in later), later
    assert vp.executed == []
    for n in (1, 2, 3):
        host.send_n(n, f"G1 X{n}")
        assert host.expect_ok()[-1].startswith(f"ok N{n} ")
    assert vp.executed == ["G1 X1", "G1 X2", "G1 X3"]


def test_fragment_with_checksum_but_no_line_number(printer: tuple[VirtualPrinter, Host]) -> None:
    vp, host = printer
    host.send("G1 X2*44")
    assert host.expect(lambda s: s.startswith("Error:")) == [
        "Error:No Line Number with checksum, Last Line: 0"
    ]
    assert host.silent_for(0.1) == []
    assert vp.executed == []


def test_the_standalone_printer_takes_chamber_and_line_size_options() -> None:
    # python -m gateway.hostlink.virtual --heated-chamber --max-cmd-size 48: a board with
    # a heated chamber whose line buffer cuts a 60-byte line (its checksum is cut off)
    proc = subprocess.Popen(
        [sys.executable, "-m", "gateway.hostlink.virtual", "--time-scale", "20",
         "--heated-chamber", "--max-cmd-size", "48"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    try:
        host = Host(proc.stdout.readline().decode().strip())
        try:
            assert "Cap:CHAMBER_TEMPERATURE:1" in host.command("M115")
            host.send_n(1, "M141 S35")
            host.expect_ok()
            host.send_n(2, "M117 " + "x" * 50)
            got = host.expect(lambda s: s.startswith("Resend:"))
            assert got[-2:] == ["Error:No Checksum with line number, Last Line: 1", "Resend: 2"]
            host.expect_ok()
            assert " C:" in host.command("M105")[-1] and "/35.00" in host.seen[-1]
        finally:
            host.close()
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(10)
        proc.stdout.close()
