"""SD-card prints, configured macros, and the firmware's own requests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from components.printer.api import JobFinished
from tests.harness import RunningServer, running_server
from tests.printer.conftest import (
    FAST_PRINTER,
    printer_of,
    square_print,
    virtual_of,
    wait_until,
    write_gcode,
)


async def test_a_print_from_the_printers_sd_card_shows_as_a_print(
    live: RunningServer,
) -> None:
    vp = virtual_of(live)
    lines = square_print(layers=2, segments=20)
    (vp.sd_dir / "CUBE.GCO").write_text("\n".join(lines) + "\n")
    finished: list[JobFinished] = []
    live.server.events.subscribe(JobFinished, finished.append)
    ws = await live.websocket()
    await ws.call("printer.gcode.script", {"script": "M23 CUBE.GCO"})
    await ws.call("printer.gcode.script", {"script": "M24"})
    printer = printer_of(live)
    status = printer.query_status({"print_stats": ["state", "filename"]})["print_stats"]
    assert status == {"state": "printing", "filename": "sd:CUBE.GCO"}
    await wait_until(lambda: bool(finished), timeout=60, what="SD print end")
    assert (finished[0].filename, finished[0].status) == ("sd:CUBE.GCO", "completed")
    final = printer.query_status({"print_stats": ["state"], "virtual_sdcard": None})
    assert final["print_stats"]["state"] == "complete"
    assert final["virtual_sdcard"]["progress"] == 1.0
    assert final["virtual_sdcard"]["is_active"] is False


async def test_configured_macros_run_their_lines_in_order(tmp_path: Path) -> None:
    config = FAST_PRINTER + """
[gcode_macro PRIME_LINE]
description: Prime the nozzle
gcode:
  G28
  G1 X5 Y5 F6000
  HOP

[gcode_macro HOP]
gcode:
  G91
  G1 Z2
  G90
"""
    async with running_server(tmp_path, config) as srv:
        printer = printer_of(srv)
        await wait_until(lambda: printer.state == "ready", what="ready")
        ws = await srv.websocket()
        await ws.call("printer.gcode.script", {"script": "prime_line"})
        assert virtual_of(srv).executed[-5:] == ["G28", "G1 X5 Y5 F6000", "G91", "G1 Z2", "G90"]
        helps = await ws.call("printer.gcode.help")
        assert helps["PRIME_LINE"] == "G-Code macro" or "PRIME_LINE" in helps
        listed = await ws.call("printer.objects.list")
        assert "gcode_macro PRIME_LINE" in listed["objects"]
        settings = printer.query_status({"configfile": ["settings"]})["configfile"]["settings"]
        assert settings["gcode_macro prime_line"]["description"] == "Prime the nozzle"


async def test_firmware_pause_request_pauses_the_host_print(live: RunningServer) -> None:
    ws = await live.websocket()
    vp = virtual_of(live)
    write_gcode(live, "action.gcode", square_print(layers=10))
    before = len(vp.executed)
    await ws.call("printer.print.start", {"filename": "action.gcode"})
    await wait_until(lambda: len(vp.executed) - before > 30, what="print under way")
    vp.request_action("pause")
    printer = printer_of(live)
    await wait_until(
        lambda: printer.query_status({"print_stats": ["state"]})["print_stats"]["state"]
        == "paused", what="paused by the firmware")
    await ws.wait_notification("notify_gcode_response",
                               lambda n: n["params"][0] == "// action:pause")
    vp.request_action("resume")
    await wait_until(
        lambda: printer.query_status({"print_stats": ["state"]})["print_stats"]["state"]
        in ("printing", "complete"), what="resumed by the firmware")
    await ws.call("printer.print.cancel")


async def test_emergency_stop_shuts_the_printer_down(live: RunningServer) -> None:
    ws = await live.websocket()
    assert await ws.call("printer.emergency_stop") == "ok"
    await ws.wait_notification("notify_klippy_shutdown")
    info = await ws.call("server.info")
    assert info["klippy_state"] == "shutdown"
    query = await ws.call("printer.objects.query", {"objects": {"webhooks": None}})
    assert query["status"]["webhooks"]["state"] == "shutdown"
    assert query["status"]["webhooks"]["state_message"]
    assert "M112" in virtual_of(live).executed[-1:]


async def test_dashboards_see_motion_load_and_a_current_version(live: RunningServer) -> None:
    ws = await live.websocket()
    info = await ws.call("server.info")
    assert info["moonraker_version"].startswith("v0.11.0-skysail")
    write_gcode(live, "motion.gcode", square_print(layers=8))
    await ws.call("printer.objects.subscribe", {"objects": {
        "motion_report": None, "toolhead": ["position"], "system_stats": None,
        "idle_timeout": ["printing_time"]}})
    start = len(ws.notifications)
    await ws.call("printer.print.start", {"filename": "motion.gcode"})

    def seen(name: str, key: str, ok: Any) -> Any:
        return lambda n: ok(n["params"][0].get(name, {}).get(key))

    await ws.wait_notification("notify_status_update",
                               seen("motion_report", "live_velocity", lambda v: v and v > 0),
                               start=start)
    await ws.wait_notification("notify_status_update",
                               seen("toolhead", "position", lambda p: p and p[0] > 0),
                               start=start)
    await ws.wait_notification("notify_status_update",
                               seen("system_stats", "memavail", lambda m: m and m > 0),
                               start=start)
    await ws.wait_notification("notify_status_update",
                               seen("idle_timeout", "printing_time", lambda t: t and t > 0),
                               start=start)
    await ws.call("printer.print.cancel")
