"""The console (notify_gcode_response and server.gcode_store) shows what a user typed and
what came back, never the host's own traffic (handshake M115 Cap: lines, M211, polls);
SD-card pause/resume/cancel that the firmware refuses change nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.harness import RunningServer
from tests.printer.conftest import printer_of, square_print, virtual_of, wait_until

HOST_COMMANDS = ("M110", "M115", "M155", "M154", "M211", "M114", "M105", "M27")


async def store(live: RunningServer, http: bool) -> list[dict[str, Any]]:
    if http:
        reply = await live.http.get("/server/gcode_store?count=1000")
        entries: list[dict[str, Any]] = reply.json()["result"]["gcode_store"]
        return entries
    ws = await live.websocket()
    return list((await ws.call("server.gcode_store", {"count": 1000}))["gcode_store"])


@pytest.mark.parametrize("http", [False, True], ids=["websocket", "http"])
async def test_reconnects_leave_no_handshake_traffic_in_the_console(
    live: RunningServer, http: bool
) -> None:
    printer = printer_of(live)
    ws = await live.websocket()
    for reconnect in ("FIRMWARE_RESTART", "RESTART"):
        start = len(ws.notifications)
        await ws.call("printer.gcode.script", {"script": reconnect})
        await ws.wait_notification("notify_klippy_ready", start=start)
    vp = virtual_of(live)
    vp.disconnect()
    await wait_until(lambda: printer.state != "ready", what="unplugged")
    vp.reconnect()
    await wait_until(lambda: printer.state == "ready", what="plugged in again")
    entries = await store(live, http)
    assert [e["message"] for e in entries if e["type"] == "command"] == [
        "FIRMWARE_RESTART", "RESTART"]
    responses = [e["message"] for e in entries if e["type"] == "response"]
    assert not [r for r in responses if r.startswith(("Cap:", "FIRMWARE_NAME", "area:"))]
    assert not [r for r in responses if "Soft endstops" in r or "Unknown command" in r]
    # nor the M503 settings report the host reads at connect
    assert not [r for r in responses if "M203" in r or "Home offset" in r or "Steps" in r]


@pytest.mark.parametrize("http", [False, True], ids=["websocket", "http"])
async def test_what_the_user_typed_and_what_came_back_is_shown(
    live: RunningServer, http: bool
) -> None:
    ws = await live.websocket()
    await ws.call("printer.gcode.script", {"script": "M115"})
    await ws.call("printer.gcode.script", {"script": "M211"})
    entries = await store(live, http)
    commands = [e["message"] for e in entries if e["type"] == "command"]
    assert commands == ["M115", "M211"]
    responses = [e["message"] for e in entries if e["type"] == "response"]
    assert any(r.startswith("Cap:AUTOREPORT_TEMP") for r in responses)
    assert any("Soft endstops" in r for r in responses)


@pytest.mark.parametrize("verb", ["pause", "resume"])
async def test_sd_print_commands_the_firmware_refuses_change_nothing(
    live: RunningServer, verb: str
) -> None:
    vp = virtual_of(live)
    printer = printer_of(live)
    (vp.sd_dir / "LONG.GCO").write_text("\n".join(square_print(layers=30)) + "\n")
    ws = await live.websocket()
    await ws.call("printer.gcode.script", {"script": "M23 LONG.GCO\nM24"})
    state = "printing"
    if verb == "resume":
        await ws.call("printer.print.pause")
        state = "paused"
    assert printer.query_status({"print_stats": ["state"]})["print_stats"]["state"] == state
    # the firmware answers "Unknown command" (as a build without the command would)
    code = 25 if verb == "pause" else 24
    del vp.firmware.table[("M", code)]
    reply = await ws.request(f"printer.print.{verb}")
    assert reply["error"]["code"] == 400 and f"M{code}" in reply["error"]["message"]
    status = printer.query_status({"print_stats": ["state"], "pause_resume": None})
    assert status == {"print_stats": {"state": state},
                      "pause_resume": {"is_paused": state == "paused"}}
    await ws.call("printer.print.cancel")
