"""Lines the firmware's line buffer (MAX_CMD_SIZE) cannot hold never go out, and a line
the firmware keeps refusing never wedges the link."""

from __future__ import annotations

import asyncio

import pytest

from gateway.hostlink import GCodeError, JobState, LinkState
from gateway.hostlink.protocol import LineTooLong

from .conftest import LinkFactory
from .proto_util import make, wire

TOO_LONG = "M117 " + "a" * 100


def test_the_sender_takes_no_line_longer_than_the_firmware_buffer() -> None:
    proto = make(max_command_size=96)
    with pytest.raises(LineTooLong, match="at most 95"):
        proto.submit(TOO_LONG)
    # nothing was numbered or queued: the next line is N1
    assert proto.submit("G1 X1")
    assert [line.split("*")[0] for line in wire(proto)] == ["N1 G1 X1"]


async def test_an_over_long_line_fails_its_script_and_the_link_stays_ready(
    make_link: LinkFactory,
) -> None:
    link = await make_link()
    vp = link.virtual_printer
    assert vp is not None
    mark = len(vp.executed)
    with pytest.raises(GCodeError, match="too long for the firmware"):
        await asyncio.wait_for(link.send(f"G28 X\n{TOO_LONG}\nG28 Y"), 5)
    assert link.state is LinkState.READY
    assert vp.executed[mark:] == ["G28 X"]  # what came before it ran, nothing after
    assert await asyncio.wait_for(link.send("M400"), 5) == []


async def test_an_over_long_line_in_a_stream_fails_the_job_before_it_is_sent(
    make_link: LinkFactory,
) -> None:
    link = await make_link()
    vp = link.virtual_printer
    assert vp is not None
    mark = len(vp.executed)
    job = link.stream([("G28 X", 6), (TOO_LONG, 112), ("G28 Y", 118)])
    with pytest.raises(Exception, match="too long for the firmware"):
        await asyncio.wait_for(job.done(), 5)
    assert job.state is JobState.FAILED
    assert TOO_LONG not in vp.executed[mark:] and "G28 Y" not in vp.executed[mark:]
    assert link.state is LinkState.READY
    assert await asyncio.wait_for(link.send("M400"), 5) == []


async def test_a_line_the_firmware_cuts_is_given_up_and_the_link_goes_on(
    make_link: LinkFactory,
) -> None:
    # the board's MAX_CMD_SIZE is smaller than [serial] max_command_size says
    link = await make_link(max_resends_per_line=3, virtual_max_command_size=48)
    vp = link.virtual_printer
    assert vp is not None
    with pytest.raises(GCodeError, match=r"refused line .* 3 times in a row; it was not run"):
        await asyncio.wait_for(link.send("M117 " + "c" * 60), 10)
    assert link.state is LinkState.READY
    assert await asyncio.wait_for(link.send("G28 X"), 5) == []
    assert vp.executed[-1] == "G28 X"
