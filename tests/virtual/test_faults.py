"""Fault injection, emergencies, host prompts and USB unplug/replug."""

from __future__ import annotations

import os
import time

import pytest
import serial

from gateway.hostlink.virtual import VirtualPrinter

from .conftest import Host, PrinterFactory, numbered, wait_for


def _stream_with_resends(host: Host, cmds: list[str]) -> int:
    """One line in flight, honouring Resend requests; returns how many resends it saw."""
    resends = 0
    i = 0
    while i < len(cmds):
        host.send_n(i + 1, cmds[i])
        got = host.expect(lambda s: s.startswith("ok"), timeout=3)
        rs = [s for s in got if s.startswith("Resend:")]
        if rs:
            resends += 1
            i = int(rs[-1].split(":")[1]) - 1
        else:
            i += 1
    return resends


def test_corruption_rate_forces_resends_without_duplicates(
    printer: tuple[VirtualPrinter, Host],
) -> None:
    vp, host = printer
    vp.set_corruption_rate(0.3, seed=7)
    cmds = [f"G1 X{i % 10} F6000" for i in range(60)]
    resends = _stream_with_resends(host, cmds)
    assert resends > 5
    assert vp.executed == cmds
    assert vp.stats.checksum_errors == resends
    vp.set_corruption_rate(0.0)


def test_drop_next_ok_needs_a_poke(printer: tuple[VirtualPrinter, Host]) -> None:
    vp, host = printer
    vp.drop_next_ok()
    host.send_n(1, "G90")
    assert host.silent_for(0.3) == []
    assert vp.executed == ["G90"]
    assert host.command("M105")[-1].startswith("ok T:")


def test_firmware_reset_sends_start_and_resets_numbering(
    printer: tuple[VirtualPrinter, Host],
) -> None:
    vp, host = printer
    host.send_n(1, "G90")
    host.expect_ok()
    host.send_n(2, "M104 S200")
    host.expect_ok()
    vp.firmware_reset()
    got = host.expect(lambda s: s == "start")
    host.expect(lambda s: s == "echo:SD card ok")
    assert got[-1] == "start"
    host.send_n(1, "M105")
    assert "/0.00" in host.expect_ok()[-1]  # targets were cleared by the reset


def test_thermal_runaway_halts_until_m999(printer: tuple[VirtualPrinter, Host]) -> None:
    vp, host = printer
    host.command("M104 S200")
    vp.thermal_runaway("E0")
    assert host.expect(lambda s: s.startswith("Error:Printer halted")) == [
        "Error:Thermal Runaway, system stopped! Heater_ID: 0",
        "Error:Printer halted. kill() called!",
    ]
    host.send("M105")
    assert host.silent_for(0.3) == []
    host.send("M999")
    assert host.expect_ok() == ["Resend: 1", "ok"]
    host.expect_ok()
    assert "/0.00" in host.command("M105")[-1]


def test_bed_runaway_names_the_bed(printer: tuple[VirtualPrinter, Host]) -> None:
    vp, host = printer
    vp.thermal_runaway("bed")
    host.expect(lambda s: s == "Error:Thermal Runaway, system stopped! Heater_ID: bed")


def test_emergency_parser_acts_while_queue_is_full(make_printer: PrinterFactory) -> None:
    vp, host = make_printer(time_scale=1.0)
    for n in range(1, 21):  # 15 planner blocks of ~1 s each, then the queue fills up
        if n > 4:  # four lines in flight at most: the 128-byte RX buffer never overflows
            host.expect(lambda s, k=n - 4: s.startswith(f"ok N{k} "))
        host.send(numbered(n, f"G1 X{n % 2 * 100} F6000"))
    wait_for(lambda: len(vp.executed) >= 16, timeout=10)
    t0 = time.monotonic()
    host.send("M112")
    host.expect(lambda s: s == "Error:Printer halted. kill() called!", timeout=10)
    # the queued moves would take ~15 s: acting in under half of that means at once (a
    # loaded machine may take a few seconds to schedule the simulator's thread)
    assert time.monotonic() - t0 < 7.5
    assert vp.executed[-1] == "M112"


def test_m112_without_emergency_parser_waits_its_turn(make_printer: PrinterFactory) -> None:
    vp, host = make_printer(time_scale=10.0, emergency_parser=False)
    for n in range(1, 21):
        if n > 4:  # four lines in flight at most: the 128-byte RX buffer never overflows
            host.expect(lambda s, k=n - 4: s.startswith(f"ok N{k} "))
        host.send(numbered(n, f"G1 X{n % 2 * 100} F6000"))
    host.send("M112")
    host.expect(lambda s: s.startswith("Error:Printer halted"), timeout=20)
    # Marlin's early check only sees M112 once the line is read into the queue, which
    # happens after the moves ahead of it have been planned.
    ex = vp.executed
    assert ex[-1] == "M112" and len(ex) >= 17
    assert ex[:-1] == [f"G1 X{n % 2 * 100} F6000" for n in range(1, len(ex))]


def test_quickstop_m410_discards_planned_moves(make_printer: PrinterFactory) -> None:
    vp, host = make_printer(time_scale=1.0)
    for n in range(1, 6):
        host.send_n(n, f"G1 X{n % 2 * 100} F6000")
        host.expect_ok()
    host.send("M410")
    host.expect_ok()
    assert vp.wait_idle(timeout=1)
    x = float(host.command("M114")[0].split()[0][2:])
    assert 0 <= x <= 100


def test_m0_prompt_answered_with_m876(make_printer: PrinterFactory) -> None:
    vp, host = make_printer(time_scale=20.0)
    host.send("M0 Change the plate")
    got = host.expect(lambda s: s == "//action:prompt_show")
    assert got[-4:] == [
        "//action:prompt_end",
        "//action:prompt_begin Change the plate",
        "//action:prompt_button Continue",
        "//action:prompt_show",
    ]
    host.expect(lambda s: s == "echo:busy: paused for user")
    host.send("M876 S0")
    got = host.expect_ok()
    assert "//action:prompt_end" in got
    host.expect_ok()  # the M876 line itself
    assert vp.executed == ["M0 Change the plate", "M876 S0"]


def test_m600_pauses_for_user(make_printer: PrinterFactory) -> None:
    _, host = make_printer(time_scale=20.0)
    host.send("M600")
    host.expect(lambda s: s == "//action:paused")
    host.expect(lambda s: s == "echo:busy: paused for user")
    host.send("M108")
    got = host.expect_ok()
    assert "//action:resumed" in got


def test_request_action(printer: tuple[VirtualPrinter, Host]) -> None:
    vp, host = printer
    vp.request_action("pause")
    host.expect(lambda s: s == "//action:pause")


def test_disconnect_and_reconnect_at_the_same_path(printer: tuple[VirtualPrinter, Host]) -> None:
    vp, host = printer
    port = vp.port
    host.command("G90")
    vp.disconnect()
    assert not os.path.exists(port)
    with pytest.raises(serial.SerialException):
        for _ in range(50):
            host.ser.write(b"M105\n")
            host.ser.read(1)
    host.ser.close()
    vp.reconnect()
    assert vp.port == port and os.path.exists(port)
    host.ser = serial.Serial(port, 250000, timeout=0.02)
    assert host.command("M105")[-1].startswith("ok T:")


def test_reset_on_open_prints_banner(make_printer: PrinterFactory) -> None:
    # The board resets when the port opens; its bootloader runs a while (so the banner
    # never lands in the host's own port set-up, which flushes input), and what the host
    # sends meanwhile is lost.
    vp, host = make_printer(reset_on_open=True)
    host.send("M117 sent during the bootloader")
    host.expect(lambda s: s == "start")
    host.expect(lambda s: s.startswith("echo: External Reset"))
    assert host.command("M105")[-1].startswith("ok T:")
    assert vp.executed == ["M105"]
