"""bed_mesh on the virtual printer behind a real server: calibrate, profiles, the Bed
Level Visualizer call, and what the firmware received."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gateway.hostlink.virtual import VirtualPrinterConfig, factory
from gateway.hostlink.virtual.cmd_mesh import surface
from tests.bed_mesh.conftest import MESH_CONFIG, bed_mesh_of, start_live
from tests.harness import RpcError, RunningServer
from tests.printer.conftest import virtual_of

# the simulated bed, rows front to back ([y][x]), as the server's virtual printer has it
_Z = surface(VirtualPrinterConfig())
EXPECTED = [[_Z[ix][iy] for ix in range(len(_Z))] for iy in range(len(_Z[0]))]


async def query_bed_mesh(srv: RunningServer) -> dict[str, Any]:
    ws = await srv.websocket()
    reply = await ws.call("printer.objects.query", {"objects": {"bed_mesh": None}})
    status: dict[str, Any] = reply["status"]["bed_mesh"]
    return status


async def test_calibrate_publishes_the_mesh_and_pushes_it_to_subscribers(
    live: RunningServer,
) -> None:
    ws = await live.websocket()
    first = await ws.call("printer.objects.subscribe", {"objects": {"bed_mesh": None}})
    assert first["status"]["bed_mesh"]["profile_name"] == ""
    assert first["status"]["bed_mesh"]["probed_matrix"] == [[]]
    start = len(ws.notifications)

    await ws.call("printer.gcode.script", {"script": "BED_MESH_CALIBRATE"}, timeout=60)

    executed = virtual_of(live).executed
    assert executed[-2:] == ["G28", "G29"]  # the probe output held the grid: no M420 V
    status = await query_bed_mesh(live)
    assert status["profile_name"] == "default"
    assert status["probed_matrix"] == EXPECTED
    assert status["mesh_matrix"] == EXPECTED
    assert status["mesh_min"] == [30.0, 30.0] and status["mesh_max"] == [205.0, 205.0]
    params = status["profiles"]["default"]["mesh_params"]
    assert params["x_count"] == 5 and params["y_count"] == 5
    assert params["min_x"] == 30.0 and params["max_y"] == 205.0
    assert params["algo"] == "direct" and params["mesh_x_pps"] == 0
    assert status["profiles"]["default"]["points"] == EXPECTED

    note = await ws.wait_notification(
        "notify_status_update",
        lambda n: n["params"][0].get("bed_mesh", {}).get("profile_name") == "default",
        start=start)
    assert note["params"][0]["bed_mesh"]["probed_matrix"] == EXPECTED
    await ws.wait_notification(
        "notify_gcode_response", lambda n: "Mesh Bed Leveling Complete" in n["params"][0],
        start=start)


async def test_save_clear_load_writes_the_mesh_back_with_m421(live: RunningServer) -> None:
    ws = await live.websocket()
    script = "BED_MESH_CALIBRATE\nBED_MESH_PROFILE SAVE=glass"
    await ws.call("printer.gcode.script", {"script": script}, timeout=60)
    status = await query_bed_mesh(live)
    assert status["profile_name"] == "glass"
    assert set(status["profiles"]) == {"default", "glass"}

    vp = virtual_of(live)
    await ws.call("printer.gcode.script", {"script": "BED_MESH_CLEAR"})
    assert vp.executed[-1] == "M420 S0"
    status = await query_bed_mesh(live)
    assert status["profile_name"] == "" and status["probed_matrix"] == [[]]
    assert "glass" in status["profiles"]

    before = len(vp.executed)
    await ws.call("printer.gcode.script", {"script": "BED_MESH_PROFILE LOAD=glass"})
    sent = vp.executed[before:]
    expected = [f"M421 I{ix} J{iy} Z{z:.4f}"
                for iy, row in enumerate(EXPECTED) for ix, z in enumerate(row)]
    assert sent == [*expected, "M420 S1"]
    status = await query_bed_mesh(live)
    assert status["profile_name"] == "glass" and status["probed_matrix"] == EXPECTED

    # the firmware really holds it: read back through the Bed Level Visualizer call
    reply = await live.http.post("/api/plugin/bedlevelvisualizer", json={"command": "mesh"})
    assert reply.status == 200
    assert reply.json()["result"]["mesh"] == EXPECTED
    assert bed_mesh_of(live).profile_name == "glass"  # same points: the name stays

    await ws.call("printer.gcode.script", {"script": "BED_MESH_PROFILE REMOVE=glass"})
    status = await query_bed_mesh(live)
    assert set(status["profiles"]) == {"default"}
    with pytest.raises(RpcError) as err:
        await ws.call("printer.gcode.script", {"script": "BED_MESH_PROFILE LOAD=glass"})
    assert "unknown profile" in err.value.message
    with pytest.raises(RpcError) as err:
        await ws.call("printer.gcode.script", {"script": "BED_MESH_PROFILE SAVE=a LOAD=b"})
    assert err.value.code == 400


async def test_bed_level_visualizer_mesh_command(live: RunningServer) -> None:
    reply = await live.http.post("/api/plugin/bedlevelvisualizer", json={"command": "mesh"})
    assert reply.status == 200
    assert reply.json()["result"]["mesh"] == []  # a fresh bilinear printer has no grid
    assert virtual_of(live).executed[-1] == "M420 V"

    await live.http.post("/printer/gcode/script", json={"script": "G28\nG29"})
    reply = await live.http.post("/api/plugin/bedlevelvisualizer", json={"command": "mesh"})
    body = reply.json()["result"]
    assert body["mesh"] == EXPECTED
    assert body["bed"] == {"type": "rectangular", "x_min": 30.0, "x_max": 205.0,
                           "y_min": 30.0, "y_max": 205.0, "z_min": 0.0, "z_max": 250.0}
    # the firmware's mesh (G29 enabled it) is now the published one too
    status = await query_bed_mesh(live)
    assert status["profile_name"] == "firmware" and status["probed_matrix"] == EXPECTED

    bad = await live.http.post("/api/plugin/bedlevelvisualizer", json={"command": "levelbed"})
    assert bad.status == 400


async def test_json_rpc_get_and_configfile_section(live: RunningServer) -> None:
    ws = await live.websocket()
    got = await ws.call("bed_mesh.get")
    assert got["bed_mesh"]["profile_name"] == "" and got["enabled"] is False
    await ws.call("printer.gcode.script", {"script": "G28\nG29"}, timeout=60)
    got = await ws.call("bed_mesh.get", {"refresh": True})
    assert got["leveling"] == "bilinear" and got["enabled"] is True
    assert got["bed_mesh"]["probed_matrix"] == EXPECTED
    reply = await live.http.get("/server/bed_mesh")
    assert reply.json()["result"]["bed_mesh"]["mesh_max"] == [205.0, 205.0]

    config = await ws.call("printer.objects.query", {"objects": {"configfile": None}})
    settings = config["status"]["configfile"]["settings"]
    assert settings["bed_mesh"]["mesh_min"] == [30.0, 30.0]
    assert config["status"]["configfile"]["config"]["bed_mesh"]["mesh_max"] == "205, 205"
    assert "printer" in settings  # the printer's own sections are still there


async def test_calibrate_needs_a_mesh_report(live: RunningServer) -> None:
    # a probe command that prints no mesh: the report command is read, which has none
    bed_mesh_of(live).config.probe_command = "G28"
    ws = await live.websocket()
    with pytest.raises(RpcError) as err:
        await ws.call("printer.gcode.script", {"script": "BED_MESH_CALIBRATE"}, timeout=60)
    assert "no mesh" in err.value.message
    assert virtual_of(live).executed[-2:] == ["G28", "M420 V"]


async def test_ubl_printer_bounds_from_the_topography_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def ubl_config(**kw: Any) -> VirtualPrinterConfig:
        return VirtualPrinterConfig(leveling="ubl", mesh_min=(20.0, 25.0), **kw)

    monkeypatch.setattr(factory, "VirtualPrinterConfig", ubl_config)
    config = MESH_CONFIG.replace("[bed_mesh]\n", "[bed_mesh]\nprobe_command: G28\n"
                                 "  G29 P1\n  G29 A\n")
    async for srv in start_live(tmp_path, config):
        ws = await srv.websocket()
        await ws.call("printer.gcode.script", {"script": "BED_MESH_CALIBRATE PROFILE=ubl"},
                      timeout=60)
        vp = virtual_of(srv)
        assert vp.executed[-4:] == ["G28", "G29 P1", "G29 A", "M420 V"]
        status = await query_bed_mesh(srv)
        assert status["profile_name"] == "ubl"
        assert status["mesh_min"] == [20.0, 25.0]  # the report's corners, not the config
        assert status["mesh_max"] == [205.0, 205.0]
        z = surface(ubl_config())
        assert status["probed_matrix"][0] == [z[ix][0] for ix in range(5)]

        before = len(vp.executed)
        await ws.call("printer.gcode.script", {"script": "BED_MESH_PROFILE LOAD=ubl"})
        assert vp.executed[before] == f"M421 I0 J0 Z{z[0][0]:.4f}"
        assert vp.executed[-1] == "M420 S1"
