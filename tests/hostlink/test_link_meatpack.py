"""MeatPack end to end on the virtual printer, which unpacks what the host packs: prints
with resends and console commands interleaved, emergencies, the fallback, and off."""

from __future__ import annotations

import asyncio

import pytest

from gateway.hostlink import JobState
from gateway.hostlink.protocol import Event, MeatPackStopped, frame

from .conftest import LinkFactory
from .link_util import generate_print, wait_until


def squeezed(commands: list[str]) -> list[str]:
    """Moves as the firmware reads them with MeatPack's no-spaces mode."""
    return [c.replace(" ", "") if c[:3] in ("G0 ", "G1 ", "G2 ", "G3 ") else c for c in commands]


@pytest.mark.parametrize("meatpack", ["auto", "off"])
async def test_print_with_resends_and_console_commands_executes_the_file(
    make_link: LinkFactory, meatpack: str,
) -> None:
    """The same MeatPack-capable firmware, packed and not: the record equals the file."""
    packed = meatpack == "auto"
    link = await make_link(virtual_meatpack=True, virtual_time_scale=20.0, meatpack=meatpack)
    vp = link.virtual_printer
    assert vp is not None
    assert link.firmware.has("MEATPACK")
    assert link.meatpack is packed and link.firmware.meatpack is packed
    lines, expected = generate_print(6_000, seed=3)
    start = len(vp.executed)
    written = link.stats().bytes_write
    vp.set_corruption_rate(0.01, seed=5)
    job = link.stream(lines)
    console: list[str] = []
    for i in range(8):
        await wait_until(lambda i=i: job.lines_acknowledged > 500 * (i + 1), timeout=30)
        command = f"M117 Layer {i} of the packed print"  # spaces kept in text
        await link.send(command)
        console.append(command)
    assert await asyncio.wait_for(job.done(), 60) is JobState.COMPLETE
    vp.set_corruption_rate(0.0)
    executed = vp.executed[start:]
    assert [c for c in executed if c.startswith("M117")] == console
    moves = [c for c in executed if not c.startswith("M117")]
    assert moves == (squeezed(expected) if packed else expected)
    assert link.stats().resends > 10
    assert link.meatpack is packed  # resends alone do not stop packing
    if packed:
        plain = sum(len(frame(1000 + i, c)) for i, c in enumerate(expected))
        assert link.stats().bytes_write - written < 0.75 * plain


async def test_emergency_command_reaches_the_parser_while_packing(
    make_link: LinkFactory,
) -> None:
    link = await make_link(virtual_meatpack=True, virtual_time_scale=1.0)
    assert link.meatpack
    heating = asyncio.ensure_future(link.send("M109 S200"))
    await wait_until(lambda: link.lines_in_flight == 1)
    await link.emergency("M108")
    await asyncio.wait_for(heating, 5)  # the wait was broken off
    assert await link.send("G1 X12 Y3 F3000") == []
    vp = link.virtual_printer
    assert vp is not None
    assert vp.executed[-3:] == ["M109 S200", "M108", "G1X12Y3F3000"]
    assert link.meatpack


async def test_lines_that_keep_failing_while_packed_fall_back_to_plain_text(
    make_link: LinkFactory,
) -> None:
    link = await make_link(virtual_meatpack=True)
    vp = link.virtual_printer
    assert vp is not None
    stopped: list[Event] = []

    def heal(event: Event) -> None:
        if isinstance(event, MeatPackStopped):
            stopped.append(event)
            vp.set_corruption_rate(0.0)  # the cable is fine again before the replay

    link.add_listener(heal)
    vp.set_corruption_rate(1.0, seed=1)
    await asyncio.wait_for(link.send("G1 X7 F3000"), 5)
    assert not link.meatpack
    assert stopped and "refused 3 times" in stopped[0].reason  # type: ignore[attr-defined]
    await link.send("G1 X8 Y1")
    assert vp.executed[-2:] == ["G1X7F3000", "G1 X8 Y1"]  # plain text from then on
    await wait_until(lambda: not link.firmware.meatpack)


async def test_meatpack_off_keeps_plain_text(make_link: LinkFactory) -> None:
    link = await make_link(virtual_meatpack=True, meatpack="off")
    assert link.firmware.has("MEATPACK") and not link.meatpack
    await link.send("G1 X1 Y2")
    vp = link.virtual_printer
    assert vp is not None
    assert vp.executed[-1] == "G1 X1 Y2"
