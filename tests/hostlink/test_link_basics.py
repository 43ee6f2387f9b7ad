"""HostLink over a pty to the virtual printer: handshake, send, events."""

from __future__ import annotations

import asyncio

import pytest

from gateway.hostlink import GCodeError, HostLink, LinkNotReady, LinkState
from gateway.hostlink.protocol import (
    ActionCommand,
    Event,
    LineSent,
    PromptShown,
    TemperatureReport,
)

from .conftest import LinkFactory
from .link_util import wait_until


async def test_handshake_reads_firmware_info_and_capabilities(make_link: LinkFactory) -> None:
    link = await make_link()
    assert link.firmware.name.startswith("Marlin")
    assert link.firmware.has("EMERGENCY_PARSER")
    assert link.firmware.advanced_ok
    assert link.virtual_printer is not None
    assert link.virtual_printer.executed[:2] == ["M110 N0", "M115"]


async def test_send_returns_the_scripts_reply_lines(make_link: LinkFactory) -> None:
    link = await make_link()
    replies = await link.send("G28 ; home\n\nG1 X10 Y20 F6000\nM400\nM114")
    assert len(replies) == 1 and replies[0].startswith("X:10.00 Y:20.00")
    assert (await link.send("M105"))[0].startswith("ok T:")


async def test_unknown_command_raises_gcode_error_with_firmware_text(
    make_link: LinkFactory,
) -> None:
    link = await make_link()
    with pytest.raises(GCodeError, match="Unknown command"):
        await link.send("G999")
    assert await link.send("M400") == []  # the link carries on


async def test_send_when_not_ready_raises(make_link: LinkFactory) -> None:
    link = await make_link()
    await link.stop()
    with pytest.raises(LinkNotReady, match="disconnected"):
        await link.send("M105")


async def test_concurrent_scripts_run_in_order_without_interleaving(
    make_link: LinkFactory,
) -> None:
    link = await make_link()
    scripts = [f"G1 X{i}.1 F6000\nG1 Y{i}.2\nG1 Z{i}.3" for i in range(1, 30)]
    await asyncio.gather(*(link.send(s) for s in scripts))
    vp = link.virtual_printer
    assert vp is not None
    moves = [c for c in vp.executed if c.startswith("G1")]
    assert moves == [line for s in scripts for line in s.splitlines()]


async def test_listeners_see_raw_lines_sent_lines_and_can_unsubscribe(
    make_link: LinkFactory,
) -> None:
    link = await make_link()
    seen: list[Event] = []
    remove = link.add_listener(seen.append)
    await link.send("M400")
    assert any(isinstance(e, LineSent) and e.command == "M400" for e in seen)
    remove()
    count = len(seen)
    await link.send("M400")
    assert len(seen) == count


async def test_action_commands_and_prompts_reach_listeners(make_link: LinkFactory) -> None:
    link = await make_link()
    seen: list[Event] = []
    link.add_listener(seen.append)
    vp = link.virtual_printer
    assert vp is not None
    vp.request_action("pause")
    for line in ("prompt_begin Filament runout", "prompt_button Continue", "prompt_show"):
        vp.request_action(line)
    await wait_until(lambda: any(isinstance(e, PromptShown) for e in seen))
    assert ActionCommand("pause", "") in seen
    assert PromptShown("Filament runout", ("Continue",)) in seen
    await link.emergency("M876 S0")
    assert await link.send("M400") == []


async def test_emergency_m108_ends_a_heating_wait(make_link: LinkFactory) -> None:
    link = await make_link(virtual_time_scale=1.0)
    heating = asyncio.ensure_future(link.send("M109 S200"))
    await wait_until(lambda: link.lines_in_flight == 1)  # M109 is waiting
    await asyncio.sleep(0)
    await link.emergency("M108")
    await asyncio.wait_for(heating, 5)
    await link.send("M104 S0")


async def test_emergency_refuses_ordinary_commands(make_link: LinkFactory) -> None:
    link = await make_link()
    with pytest.raises(ValueError):
        await link.emergency("G28")


async def test_temperatures_auto_reported_after_m155(make_link: LinkFactory) -> None:
    link = await make_link(temperature_report_interval=1.0)
    reports: list[TemperatureReport] = []
    link.add_listener(lambda e: reports.append(e) if isinstance(e, TemperatureReport) else None)
    await wait_until(lambda: len(reports) >= 2)
    vp = link.virtual_printer
    assert vp is not None and "M155 S1" in vp.executed
    assert "T" in reports[-1].sensors and not reports[-1].solicited


async def test_temperatures_polled_with_m105_without_autoreport(make_link: LinkFactory) -> None:
    link = await make_link(temperature_report_interval=0.05, virtual_autoreport_temp=False)
    reports: list[TemperatureReport] = []
    link.add_listener(lambda e: reports.append(e) if isinstance(e, TemperatureReport) else None)
    await wait_until(lambda: len(reports) >= 3)
    assert all(r.solicited for r in reports)
    vp = link.virtual_printer
    assert vp is not None and "M155 S1" not in vp.executed


async def test_stop_fails_pending_sends(make_link: LinkFactory) -> None:
    link = await make_link(virtual_time_scale=1.0)
    pending = asyncio.ensure_future(link.send("G4 S5"))
    await asyncio.sleep(0)
    await link.stop()
    with pytest.raises(LinkNotReady, match="stopped"):
        await pending
    assert link.state is LinkState.DISCONNECTED


async def test_link_without_port_keeps_waiting_for_it(tmp_path: object) -> None:
    from .link_util import fast_config

    link = HostLink(fast_config(port="/dev/serial/by-id/does-not-exist", connect_timeout=1.0))
    await link.start()
    try:
        assert link.state is LinkState.DISCONNECTED
        assert "waiting for serial port" in link.state_message
    finally:
        await link.stop()
