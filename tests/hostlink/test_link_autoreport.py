"""Temperature auto-reports that go quiet are switched on again."""

from __future__ import annotations

from gateway.hostlink import HostLink, LinkState
from gateway.hostlink.protocol import Event, TemperatureReport
from tests.hostlink.link_util import fast_config, wait_until


async def test_silenced_temperature_reports_are_enabled_again() -> None:
    link = HostLink(fast_config(temperature_report_interval=1.0))
    reports: list[Event] = []
    link.add_listener(lambda e: reports.append(e) if isinstance(e, TemperatureReport) else None)
    await link.start()
    try:
        assert link.state is LinkState.READY
        await wait_until(lambda: bool(reports), timeout=5)
        await link.send("M155 S0")  # as if the setup had been lost
        silenced_at = len(reports)
        vp = link.virtual_printer
        assert vp is not None
        await wait_until(lambda: vp.executed.count("M155 S1") >= 2, timeout=10)
        await wait_until(lambda: len(reports) > silenced_at, timeout=5)
    finally:
        await link.stop()
