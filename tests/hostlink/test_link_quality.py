"""Link-quality counters and the summary log line: at most one a minute, only while
errors occur."""

from __future__ import annotations

import asyncio
import logging

import pytest

from gateway.hostlink import JobState, watch

from .conftest import LinkFactory
from .link_util import generate_print, wait_until


async def test_corruption_is_counted_and_summarised_once_per_interval(
    make_link: LinkFactory, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(watch, "SUMMARY_INTERVAL", 1.0)  # a minute in production
    caplog.set_level(logging.WARNING, logger="gateway.hostlink.watch")
    link = await make_link(virtual_time_scale=20.0)
    vp = link.virtual_printer
    assert vp is not None
    vp.set_corruption_rate(0.02, seed=4)
    lines, expected = generate_print(3_000, seed=9)
    start = len(vp.executed)
    job = link.stream(lines)
    assert await asyncio.wait_for(job.done(), 60) is JobState.COMPLETE
    vp.set_corruption_rate(0.0)
    assert vp.executed[start:] == expected
    stats = link.stats()
    assert stats.checksum_errors == vp.stats.checksum_errors > 0
    assert stats.resends >= stats.checksum_errors
    assert stats.bytes_retransmit > 0
    assert stats.lines_acknowledged >= len(expected)

    def summaries() -> list[str]:
        return [r.getMessage() for r in caplog.records if "serial link in the last" in r.message]

    await wait_until(lambda: len(summaries()) >= 1, timeout=5)
    assert "checksum errors" in summaries()[0]
    # no errors any more: no more lines, however long it runs
    count = len(summaries())
    await link.send("M400")
    await asyncio.sleep(2.2)  # two intervals of the (shortened) summary period
    assert len(summaries()) <= count + 1  # the interval that was running may still report
    settled = len(summaries())
    await asyncio.sleep(2.2)
    assert len(summaries()) == settled
