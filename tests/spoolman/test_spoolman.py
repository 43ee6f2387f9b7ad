"""[spoolman] against a Spoolman server (tests/spoolman/spoolman_server.py, the contract
in docs/spoolman.md): the active spool set, cleared and kept; filament used during a
print on the virtual printer reported in batches totalling the file's extrusion within
1 %; usage kept while Spoolman is down and delivered when it is back."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from components.printer.gcode_state import GcodeState, split_command
from tests.harness import RpcError, RunningServer, Websocket, running_server, wait_for
from tests.spoolman.spoolman_server import SpoolmanServer, make_spool


def config(spoolman: SpoolmanServer, time_scale: int = 4) -> str:
    return f"""
[server]
host: 127.0.0.1
port: 0

[serial]
port: virtual
virtual_time_scale: {time_scale}

[spoolman]
server: {spoolman.url}
sync_rate: 1
"""


@pytest.fixture
async def spoolman() -> AsyncIterator[SpoolmanServer]:
    server = SpoolmanServer()
    server.spools = {1: make_spool(1, "Galaxy Black", "1A1A1A"),
                     2: make_spool(2, "Signal Red", "D02020")}
    server.start()
    try:
        yield server
    finally:
        await server.stop()


def print_file() -> list[str]:
    """A print with what slicers do: relative and absolute E, retractions, G92 E0 at
    every layer, a flow change."""
    lines = ["M302 P1", "G28", "G90", "M83", "G1 Z0.2 F600", "G1 E2 F300 ; prime"]
    for layer in range(4):
        if layer == 2:
            lines += ["M82", "M221 S95"]
        lines += [f";LAYER:{layer}", "G92 E0", f"G1 Z{0.2 * (layer + 2):.1f} F600"]
        e = 0.0
        for i in range(40):
            x = 10 + (i % 20) * 2.0
            y = 10 + (i // 20) * 2.0 + layer
            step = 0.06 + 0.01 * (i % 3)
            e += step
            extrude = f"E{e:.5f}" if layer >= 2 else f"E{step:.5f}"
            lines.append(f"G1 X{x:.2f} Y{y:.2f} {extrude} F2400")
            if i % 10 == 9:  # retract, travel, unretract
                if layer >= 2:
                    lines += [f"G1 E{e - 0.8:.5f} F2100", f"G1 X{x + 1:.2f} F3000",
                              f"G1 E{e:.5f} F2100"]
                else:
                    lines += ["G1 E-0.8 F2100", f"G1 X{x + 1:.2f} F3000", "G1 E0.8 F2100"]
    lines += ["G1 E-1 F2100 ; final retract", "M221 S100", "M107"]
    return lines


def file_extrusion(lines: list[str]) -> float:
    """Filament the file takes from the spool, worked out here on its own: E advances
    in absolute terms, flow applied, retractions only counted once made up again."""
    absolute, flow = True, 1.0
    e_file, machine, highest, total = 0.0, 0.0, 0.0, 0.0
    for line in lines:
        code, words = split_command(line)
        if code in ("G90", "M82"):
            absolute = True
        elif code in ("G91", "M83"):
            absolute = False
        elif code == "M221" and "S" in words:
            flow = words["S"] / 100
        elif code == "G92" and "E" in words:
            e_file = words["E"]
        elif code in ("G0", "G1") and "E" in words:
            delta = words["E"] - e_file if absolute else words["E"]
            e_file = words["E"] if absolute else e_file + words["E"]
            machine += delta * flow
            if machine > highest:
                total += machine - highest
                highest = machine
    return total


def write_print(srv: RunningServer, name: str, lines: list[str]) -> None:
    (srv.server.data_dir / "gcodes" / name).write_text("\n".join(lines) + "\n")


async def ready(srv: RunningServer) -> Websocket:
    ws = await srv.websocket()
    await wait_for(lambda: srv.server.klippy_state == "ready", 30, "printer ready")
    await wait_for(lambda: srv.server.components["spoolman"].connected,  # type: ignore[attr-defined]
                   30, "spoolman connected")
    return ws


def test_the_printer_counts_filament_like_the_reference() -> None:
    lines = print_file()
    state = GcodeState()
    for line in lines:
        state.apply(line)
    expected = file_extrusion(lines)
    assert expected > 12
    assert math.isclose(state.extruded, expected, rel_tol=1e-9)


async def test_active_spool_set_cleared_kept_and_followed(
    tmp_path: Path, spoolman: SpoolmanServer
) -> None:
    async with running_server(tmp_path, config(spoolman)) as srv:
        ws = await ready(srv)
        assert "spoolman" in (await ws.call("server.info"))["components"]
        assert await ws.call("server.spoolman.get_spool_id") == {"spool_id": None}
        status = await ws.call("server.spoolman.status")
        assert status == {"spoolman_connected": True, "pending_reports": [], "spool_id": None}
        assert await ws.call("server.spoolman.post_spool_id", {"spool_id": 1}) == {
            "spool_id": 1}
        note = await ws.wait_notification("notify_active_spool_set")
        assert note["params"] == [{"spool_id": 1}]
        reply = await srv.http.get("/server/spoolman/spool_id")
        assert reply.json() == {"result": {"spool_id": 1}}

        # the console commands Mainsail's macros and users type
        await ws.call("printer.gcode.script", {"script": "SET_ACTIVE_SPOOL ID=2"})
        assert (await ws.call("server.spoolman.get_spool_id"))["spool_id"] == 2
        with pytest.raises(RpcError, match="ID=<spool id>"):
            await ws.call("printer.gcode.script", {"script": "SET_ACTIVE_SPOOL"})
        await ws.call("printer.gcode.script", {"script": "CLEAR_ACTIVE_SPOOL"})
        assert (await ws.call("server.spoolman.get_spool_id"))["spool_id"] is None
        sets = [n["params"][0]["spool_id"] for n in ws.notifications
                if n["method"] == "notify_active_spool_set"]
        assert sets == [1, 2, None]

        # the proxy, both response versions
        v2 = await ws.call("server.spoolman.proxy", {
            "request_method": "GET", "path": "/v1/spool/2", "use_v2_response": True})
        assert v2["error"] is None and v2["response"]["filament"]["name"] == "Signal Red"
        missing = await ws.call("server.spoolman.proxy", {
            "request_method": "GET", "path": "/v1/spool/9", "use_v2_response": True})
        assert missing == {"response": None, "error": {
            "status_code": 404, "message": "No spool with ID 9 found."}}
        info = await ws.call("server.spoolman.proxy", {"request_method": "GET",
                                                       "path": "/v1/info"})
        assert info["version"] == "0.22.1"
        with pytest.raises(RpcError) as v1_missing:
            await ws.call("server.spoolman.proxy", {"request_method": "GET",
                                                    "path": "/v1/spool/9"})
        assert v1_missing.value.code == 404
        with pytest.raises(RpcError, match="must start with the API version"):
            await ws.call("server.spoolman.proxy", {"request_method": "GET", "path": "/spool"})
        with pytest.raises(RpcError):
            await ws.call("server.spoolman.proxy", {"request_method": "TRACE",
                                                    "path": "/v1/spool"})

        # kept across a restart; a spool deleted in Spoolman stops being tracked
        await ws.call("server.spoolman.post_spool_id", {"spool_id": 2})
    async with running_server(tmp_path, config(spoolman)) as srv:
        ws = await ready(srv)
        assert (await ws.call("server.spoolman.get_spool_id"))["spool_id"] == 2
        spoolman.delete(2)
        note = await ws.wait_notification("notify_active_spool_set")
        assert note["params"] == [{"spool_id": None}]
        assert (await ws.call("server.spoolman.status"))["spool_id"] is None


async def test_usage_is_reported_in_batches_during_a_print(
    tmp_path: Path, spoolman: SpoolmanServer
) -> None:
    lines = print_file()
    expected = file_extrusion(lines)
    async with running_server(tmp_path, config(spoolman)) as srv:
        ws = await ready(srv)
        await ws.call("server.spoolman.post_spool_id", {"spool_id": 1})
        write_print(srv, "spool.gcode", lines)
        await ws.call("printer.print.start", {"filename": "spool.gcode"})
        state: dict[str, Any] = {}

        async def finished() -> bool:
            result = await ws.call("printer.objects.query", {"objects": {"print_stats": None}})
            state.update(result["status"]["print_stats"])
            return state["state"] in ("complete", "error", "cancelled")

        await wait_for(finished, 120, "print finished")
        assert state["state"] == "complete"
        during = len(spoolman.uses)
        await wait_for(lambda: spoolman.used(1) >= expected * 0.99, 15, "usage delivered")
        assert during >= 2, spoolman.uses  # batches while printing, not one at the end
        assert all(sid == 1 and mm > 0 for sid, mm in spoolman.uses)
        assert math.isclose(spoolman.used(1), expected, rel_tol=0.01), (
            spoolman.used(1), expected)
        assert (await ws.call("server.spoolman.status"))["pending_reports"] == []
        spool = spoolman.spools[1]
        assert spool["used_weight"] > 0 and spool["remaining_weight"] < 1000


async def test_usage_is_kept_while_spoolman_is_down_and_delivered_after(
    tmp_path: Path, spoolman: SpoolmanServer
) -> None:
    lines = print_file()
    expected = file_extrusion(lines)
    async with running_server(tmp_path, config(spoolman, time_scale=4)) as srv:
        ws = await ready(srv)
        await ws.call("server.spoolman.post_spool_id", {"spool_id": 1})
        write_print(srv, "outage.gcode", lines)
        await ws.call("printer.print.start", {"filename": "outage.gcode"})
        await wait_for(lambda: len(spoolman.uses) >= 1, 60, "first report")
        await spoolman.stop()
        await ws.wait_notification("notify_spoolman_status_changed",
                                   lambda n: not n["params"][0]["spoolman_connected"])
        delivered_before = spoolman.used(1)

        async def pending() -> float:
            status = await ws.call("server.spoolman.status")
            return sum(r["filament_used"] for r in status["pending_reports"])

        async def piling_up() -> bool:
            return await pending() > 1.0

        await wait_for(piling_up, 60, "usage pending while Spoolman is down")
        # the printer went on printing all along
        printing = await ws.call("printer.objects.query", {"objects": {"print_stats": None}})
        assert printing["status"]["print_stats"]["state"] == "printing"
        proxied = await ws.call("server.spoolman.proxy", {
            "request_method": "GET", "path": "/v1/health", "use_v2_response": True})
        assert proxied["error"]["status_code"] == 503

        spoolman.start()  # back, on the same port
        await ws.wait_notification("notify_spoolman_status_changed",
                                   lambda n: n["params"][0]["spoolman_connected"], timeout=30)

        async def finished() -> bool:
            result = await ws.call("printer.objects.query", {"objects": {"print_stats": None}})
            return bool(result["status"]["print_stats"]["state"] == "complete")

        await wait_for(finished, 120, "print finished")
        await wait_for(lambda: spoolman.used(1) >= expected * 0.99, 20, "usage delivered")
        assert spoolman.used(1) > delivered_before
        assert math.isclose(spoolman.used(1), expected, rel_tol=0.01), (
            spoolman.used(1), expected)
        assert await pending() == 0
