"""Streaming prints through HostLink to the virtual printer."""

from __future__ import annotations

import asyncio

import pytest

from gateway.hostlink import JobState, LinkBusy

from .conftest import LinkFactory
from .link_util import generate_print, wait_until


@pytest.mark.parametrize("advanced_ok", ["auto", "off"])
async def test_stream_with_corrupted_lines_executes_exactly_the_file(
    make_link: LinkFactory, advanced_ok: str
) -> None:
    link = await make_link(advanced_ok=advanced_ok, virtual_advanced_ok=advanced_ok != "off")
    vp = link.virtual_printer
    assert vp is not None
    lines, expected = generate_print(20_000)
    start = len(vp.executed)
    vp.set_corruption_rate(0.01, seed=7)
    job = link.stream(lines)
    assert await asyncio.wait_for(job.done(), 60) is JobState.COMPLETE
    vp.set_corruption_rate(0.0)
    # (a line torn by the firmware's RX flush may leave its checksum digits, which
    # Marlin answers as an unknown command: executed, it is not, and not recorded)
    assert vp.executed[start:] == expected
    assert vp.stats.checksum_errors > 100  # the 1 % did happen
    assert job.acknowledged_position == lines[-1][1]
    assert job.lines_acknowledged == len(expected)


async def test_pause_returns_when_sent_lines_are_acknowledged(make_link: LinkFactory) -> None:
    link = await make_link(virtual_time_scale=10.0)
    vp = link.virtual_printer
    assert vp is not None
    lines, expected = generate_print(3_000, seed=2)
    start = len(vp.executed)
    job = link.stream(lines)
    await wait_until(lambda: job.lines_acknowledged > 200, timeout=30)
    await job.pause()
    assert job.state is JobState.PAUSED
    done = job.lines_acknowledged
    # Everything acknowledged is executed (Marlin acknowledges a line when it queues it:
    # the simulator's thread may still be running the last few) and nothing beyond it
    # was sent.
    await wait_until(lambda: len(vp.executed) - start >= done, timeout=30)
    assert vp.executed[start:] == expected[:done]
    offset = job.acknowledged_position
    assert offset == next(o for raw, o in lines if raw.strip() == expected[done - 1])
    # a console round trip while paused: any print line sent would be acknowledged first
    assert await asyncio.wait_for(link.send("M400"), 30) == []
    assert job.lines_acknowledged == done
    assert vp.executed[start:] == [*expected[:done], "M400"]
    job.resume()
    assert await asyncio.wait_for(job.done(), 30) is JobState.COMPLETE
    assert vp.executed[start:] == [*expected[:done], "M400", *expected[done:]]


async def test_cancel_stops_feeding_and_ends_the_job(make_link: LinkFactory) -> None:
    link = await make_link(virtual_time_scale=10.0)
    vp = link.virtual_printer
    assert vp is not None
    lines, expected = generate_print(3_000, seed=3)
    start = len(vp.executed)
    job = link.stream(lines)
    await wait_until(lambda: job.lines_acknowledged > 50, timeout=30)
    await job.cancel()
    assert await job.done() is JobState.CANCELLED
    sent = job.lines_acknowledged
    # acknowledged = queued by the firmware: wait for the simulator to have run them
    await wait_until(lambda: len(vp.executed) - start >= sent, timeout=30)
    assert vp.executed[start:] == expected[:sent]
    assert await link.send("M400") == []


async def test_console_scripts_interleave_between_print_lines_never_inside(
    make_link: LinkFactory,
) -> None:
    link = await make_link(virtual_time_scale=10.0)
    vp = link.virtual_printer
    assert vp is not None
    lines, expected = generate_print(2_000, seed=4)
    start = len(vp.executed)
    job = link.stream(lines)
    script = "M117 one\nM117 two\nM117 three"
    for _ in range(5):
        await wait_until(lambda: job.lines_acknowledged > 0)
        await link.send(script)
    await asyncio.wait_for(job.done(), 30)
    executed = vp.executed[start:]
    assert [c for c in executed if not c.startswith("M117")] == expected
    m117 = [i for i, c in enumerate(executed) if c.startswith("M117")]
    assert len(m117) == 15
    for k in range(0, 15, 3):  # each script's three lines are adjacent
        assert m117[k + 2] - m117[k] == 2


async def test_second_stream_while_printing_is_refused(make_link: LinkFactory) -> None:
    link = await make_link(virtual_time_scale=10.0)
    lines, _ = generate_print(500, seed=5)
    job = link.stream(lines)
    with pytest.raises(LinkBusy):
        link.stream(lines)
    await job.cancel()


async def test_dropped_ok_neither_hangs_nor_duplicates(make_link: LinkFactory) -> None:
    link = await make_link(response_timeout=0.3)
    vp = link.virtual_printer
    assert vp is not None
    lines, expected = generate_print(400, seed=6)
    start = len(vp.executed)
    job = link.stream(lines)
    for _ in range(3):
        await wait_until(lambda: job.lines_acknowledged > 0)
        vp.drop_next_ok()
        await asyncio.sleep(0.01)
    assert await asyncio.wait_for(job.done(), 20) is JobState.COMPLETE
    # A dropped final ok is found by the silence probe.
    vp.drop_next_ok()
    assert await asyncio.wait_for(link.send("G1 X5 Y5"), 5) == []
    assert vp.executed[start:] == [*expected, "G1 X5 Y5"]


async def test_stream_reading_error_fails_the_job(make_link: LinkFactory) -> None:
    link = await make_link()

    def broken() -> object:
        yield ("G1 X1 Y1\n", 9)
        raise OSError("disk gone")

    job = link.stream(broken())  # type: ignore[arg-type]
    with pytest.raises(Exception, match="disk gone"):
        await asyncio.wait_for(job.done(), 5)
