"""Faults end in the right state with a clear message, and nothing hangs."""

from __future__ import annotations

import asyncio

import pytest

from gateway.hostlink import GCodeError, HostLink, JobFailed, LinkNotReady, LinkState

from .conftest import LinkFactory
from .link_util import fast_config, generate_print, wait_until
from .pty_peer import PtyPeer, plain_marlin


async def test_firmware_reset_mid_print_fails_the_job_and_reconnects(
    make_link: LinkFactory,
) -> None:
    link = await make_link(virtual_time_scale=10.0)
    vp = link.virtual_printer
    assert vp is not None
    lines, _ = generate_print(5_000)
    job = link.stream(lines)
    await wait_until(lambda: job.lines_acknowledged > 100, timeout=30)
    vp.firmware_reset()
    # (bounds, not delays: generous for a loaded machine)
    with pytest.raises(JobFailed, match="firmware restarted"):
        await asyncio.wait_for(job.done(), 30)
    await link.wait_for_state(LinkState.READY, timeout=30)
    # The handshake ran again and numbering restarted.
    assert vp.executed[-2:] == ["M110 N0", "M115"]
    assert await link.send("M400") == []


async def test_thermal_runaway_mid_print_shuts_down_until_reset(make_link: LinkFactory) -> None:
    link = await make_link(virtual_time_scale=10.0)
    vp = link.virtual_printer
    assert vp is not None
    lines, _ = generate_print(5_000)
    job = link.stream(lines)
    await wait_until(lambda: job.lines_acknowledged > 100)
    states: list[LinkState] = []
    link.add_listener(lambda e: states.append(e.state) if hasattr(e, "state") else None)
    vp.thermal_runaway("E0")
    with pytest.raises(JobFailed, match="Thermal Runaway"):
        await asyncio.wait_for(job.done(), 5)
    assert link.state is LinkState.SHUTDOWN
    assert "Thermal Runaway" in link.state_message
    with pytest.raises(LinkNotReady, match="shutdown: Thermal Runaway"):
        await link.send("M105")
    await asyncio.sleep(0.3)  # the supervisor must not bring it back by itself
    assert link.state is LinkState.SHUTDOWN and LinkState.READY not in states
    vp.firmware_reset()
    await link.wait_for_state(LinkState.READY, timeout=5)


async def test_halt_fails_a_waiting_send_with_the_firmware_message(
    make_link: LinkFactory,
) -> None:
    link = await make_link(virtual_time_scale=1.0)
    vp = link.virtual_printer
    assert vp is not None
    dwell = asyncio.ensure_future(link.send("G4 S10"))
    await wait_until(lambda: link.lines_in_flight == 1)
    vp.thermal_runaway("B")
    with pytest.raises(GCodeError, match="Heater_ID: bed"):
        await asyncio.wait_for(dwell, 5)


async def test_m112_halts_the_firmware_until_firmware_restart(make_link: LinkFactory) -> None:
    link = await make_link()
    await link.emergency("M112")
    await link.wait_for_state(LinkState.SHUTDOWN, timeout=5)
    assert "kill" in link.state_message.lower() or "halt" in link.state_message.lower()
    await link.firmware_restart()
    await link.wait_for_state(LinkState.READY, timeout=5)
    assert await link.send("M400") == []


async def test_unplug_mid_print_then_replug_reconnects(make_link: LinkFactory) -> None:
    link = await make_link(virtual_time_scale=10.0)
    vp = link.virtual_printer
    assert vp is not None
    lines, _ = generate_print(5_000)
    job = link.stream(lines)
    await wait_until(lambda: job.lines_acknowledged > 100)
    vp.disconnect()
    with pytest.raises(JobFailed, match="serial port"):
        await asyncio.wait_for(job.done(), 5)
    await link.wait_for_state(LinkState.DISCONNECTED, timeout=5)
    assert link.state_message
    with pytest.raises(LinkNotReady):
        await link.send("M105")
    vp.reconnect()
    await link.wait_for_state(LinkState.READY, timeout=5)
    assert await link.send("M400") == []


async def test_line_refused_too_often_stops_with_a_clear_error(make_link: LinkFactory) -> None:
    link = await make_link(max_resends_per_line=5)
    vp = link.virtual_printer
    assert vp is not None
    vp.set_corruption_rate(1.0, seed=1)
    with pytest.raises(LinkNotReady, match="refused 5 times"):
        await asyncio.wait_for(link.send("G1 X10"), 5)
    assert link.state is LinkState.ERROR
    assert "refused 5 times" in link.state_message
    vp.set_corruption_rate(0.0)
    await link.wait_for_state(LinkState.READY, timeout=5)


async def test_port_that_never_answers_fails_the_handshake_with_a_message() -> None:
    with PtyPeer(lambda line: []) as peer:
        link = HostLink(fast_config(port=peer.path, connect_timeout=1.5))
        await link.start()
        try:
            assert link.state is LinkState.ERROR
            assert "no answer to M110" in link.state_message
            # And it keeps trying.
            await wait_until(lambda: peer.received.count("N1 M110 N0*124") >= 2)
        finally:
            await link.stop()


async def test_printer_falling_silent_is_poked_then_reported() -> None:
    with PtyPeer(plain_marlin) as peer:
        link = HostLink(fast_config(port=peer.path, response_timeout=0.3))
        await link.start()
        try:
            assert link.state is LinkState.READY, link.state_message
            peer.respond = lambda line: []
            pending = asyncio.ensure_future(link.send("G28"))
            with pytest.raises(LinkNotReady, match="not responding"):
                await asyncio.wait_for(pending, 5)
            assert await link.wait_for_state(LinkState.ERROR, timeout=1) is LinkState.ERROR
            # The poke was the same numbered line again.
            assert peer.received[-2:] == [peer.received[-1]] * 2
            assert peer.received[-1].startswith("N2 G28*")  # after M110, M115
            peer.respond = plain_marlin
            await link.wait_for_state(LinkState.READY, timeout=5)
        finally:
            await link.stop()


async def test_board_that_resets_on_open_is_awaited(tmp_path: object) -> None:
    booted = False

    def booting(line: str) -> list[str]:
        nonlocal booted
        if not booted:  # the bootloader eats the first line, then the banner
            booted = True
            return ["start", "echo:External Reset", "Marlin 2.1.2"]
        return plain_marlin(line)

    with PtyPeer(booting) as peer:
        link = HostLink(fast_config(port=peer.path))
        await link.start()
        try:
            assert link.state is LinkState.READY, link.state_message
            assert link.firmware.name == "Scripted 1.0"
        finally:
            await link.stop()
