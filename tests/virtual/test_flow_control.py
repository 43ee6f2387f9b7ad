"""RX ring overflow, planner back-pressure, timing and starvation accounting."""

from __future__ import annotations

import re
import time

from .conftest import PrinterFactory, numbered, wait_for


def test_flooding_host_overflows_rx_and_gets_resend(make_printer: PrinterFactory) -> None:
    vp, host = make_printer(time_scale=1.0)
    lines = [numbered(n, f"G1 X{n % 2 * 5} F6000") for n in range(1, 61)]
    host.ser.write("".join(line + "\n" for line in lines).encode())
    wait_for(lambda: vp.stats.rx_overflows > 0, timeout=3)
    # Marlin executes what survived (how much depends on when its loop read the ring)
    # and refuses the torn lines after it, then sits on the torn tail of a line ...
    host.expect(lambda s: s.startswith("ok N1 "))
    deadline = time.monotonic() + 10
    while host.silent_for(0.3):
        assert time.monotonic() < deadline, "the firmware never went quiet"
    # ... until the next bytes complete it into garbage: an error and a resend request.
    host.send(numbered(61, "G90"))
    got = host.expect(lambda s: s.startswith("Resend:"), timeout=5)
    assert any(s.startswith("Error:") for s in got), got
    # Whatever got through is an in-order prefix of what was sent: nothing skipped or doubled.
    executed = vp.executed
    assert executed == [f"G1 X{n % 2 * 5} F6000" for n in range(1, len(executed) + 1)]
    assert 3 < len(executed) < 60  # at least what the receive buffer holds got through


def test_planner_full_delays_ok(make_printer: PrinterFactory) -> None:
    # Moves of half a second each (real time): the host's round trips, even on a loaded
    # machine, are far shorter, so the first move is still running when the third is
    # planned.
    vp, host = make_printer(time_scale=1.0, block_buffer_size=4)
    oks: list[str] = []
    times: list[float] = []
    for n in range(1, 6):
        host.send_n(n, f"G1 X{n % 2 * 100} F12000")
        oks.append(host.expect_ok()[-1])
        times.append(time.monotonic())
    # 3 usable blocks: the fourth move had to wait for the first to finish
    assert [int(re.search(r" P(\d+)", o).group(1)) for o in oks[:3]] == [2, 1, 0]  # type: ignore[union-attr]
    assert times[3] - times[2] > 0.2
    assert vp.wait_idle()


def test_hundred_mm_move_takes_about_a_second_scaled(make_printer: PrinterFactory) -> None:
    scale = 4.0
    vp, host = make_printer(time_scale=scale)
    host.command("G1 X0 F6000")
    t0 = time.monotonic()
    host.send("G1 X100 F6000")
    host.send("M400")
    host.expect_ok()
    host.expect_ok()
    elapsed = (time.monotonic() - t0) * scale
    # 100 mm at 100 mm/s plus accel/decel at 3000 mm/s^2 (~1.03 s) plus 0.1 s first-move
    # delay; never faster than real time, and the upper bound leaves room for a loaded box
    assert 1.0 < elapsed < 4.0, elapsed
    assert abs(vp.stats.motion_time - 1.033) < 0.01


def test_starvation_counted_only_when_host_is_late(make_printer: PrinterFactory) -> None:
    vp, host = make_printer(time_scale=20.0)
    host.command("G1 X10 F6000")  # the gap before the first move is not starvation
    assert vp.wait_idle()
    host.command("G1 X20 F6000")  # the planner ran dry and the host was late: starvation
    assert vp.wait_idle()
    host.command("M400")  # a deliberate wait excuses the next gap
    host.command("G1 X30 F6000")
    assert vp.wait_idle()
    host.command("G4 P10")
    host.command("G1 X40 F6000")
    assert vp.wait_idle()
    s = vp.stats
    assert s.planner_starvations == 1
    assert s.starvation_time > 0
    vp.reset_stats()
    assert vp.stats.planner_starvations == 0


def test_fed_planner_does_not_starve(make_printer: PrinterFactory) -> None:
    vp, host = make_printer(time_scale=5.0)
    n = 1
    for _ in range(40):
        host.send_n(n, f"G1 X{(n % 2) * 20} F6000")
        host.expect_ok()
        n += 1
    host.command("M400", timeout=10)
    assert vp.stats.planner_starvations == 0
    assert vp.stats.motion_time > 5.0


def test_command_delay_slows_processing(make_printer: PrinterFactory) -> None:
    _, host = make_printer(command_delay=0.05)
    t0 = time.monotonic()
    for _ in range(4):
        host.command("G90")
    # the pacer may answer up to a millisecond ahead of its clock (execution.Pacer), so
    # a quick host can see 4 * 0.05 - 0.001 s
    assert time.monotonic() - t0 >= 4 * 0.05 - 0.001


def test_wire_pacing_limits_throughput(make_printer: PrinterFactory) -> None:
    """At 9600 baud 20 one-in-flight lines of ~20 bytes each way need >= 20*(20+15)/960 s."""
    _, host = make_printer(baud=9600, time_scale=1000.0)
    t0 = time.monotonic()
    for n in range(1, 21):
        host.send_n(n, "G1 X1 Y1")
        host.expect_ok()
    elapsed = time.monotonic() - t0
    assert elapsed > 20 * (len(numbered(10, "G1 X1 Y1")) + 1 + len("ok N10 P15 B3") + 1) / 960 * 0.9
