"""The seed's printer API status codes: 204 on success, 400 for invalid values, 409 when
not operational (and, for jog/home/select/extrude, while printing)."""

from __future__ import annotations

from typing import Any

import pytest

from components.octoprint import OctoPrintCompat
from tests.harness import RunningServer
from tests.octoprint.conftest import Octo, start_long_print, wait_job
from tests.printer.conftest import printer_of, virtual_of, wait_until


def position(srv: RunningServer) -> list[float]:
    status = printer_of(srv).query_status({"gcode_move": ["gcode_position"]})
    return [float(v) for v in status["gcode_move"]["gcode_position"][:3]]


def target(srv: RunningServer, heater: str) -> float:
    value = printer_of(srv).query_status({heater: ["target"]})[heater]["target"]
    return float(value)


async def expect(octo: Octo, path: str, body: Any, status: int) -> None:
    reply = await octo.post(path, body)
    assert reply.status == status, (path, body, reply.status, reply.body)
    if status == 204:
        assert reply.body == b""
    else:
        assert isinstance(reply.json()["error"], str)


async def test_printer_state_shapes(octo: Octo) -> None:
    body = (await octo.get("/api/printer")).json()
    assert body["temperature"]["tool0"].keys() == {"actual", "target", "offset"}
    assert isinstance(body["temperature"]["bed"]["actual"], float)
    assert body["sd"] == {"ready": False} or body["sd"]["ready"] in (True, False)
    assert body["state"]["text"] == "Operational"
    assert body["state"]["flags"]["operational"] and body["state"]["flags"]["ready"]
    excluded = (await octo.get("/api/printer?exclude=temperature,sd")).json()
    assert set(excluded) == {"state"}
    compat = octo.srv.server.components["octoprint"]
    assert isinstance(compat, OctoPrintCompat)
    await wait_until(lambda: len(compat.history.samples) >= 2, what="two temperature samples")
    history = (await octo.get("/api/printer?history=true&limit=2")).json()["temperature"]
    assert len(history["history"]) == 2
    assert history["history"][0]["time"] >= history["history"][1]["time"]
    assert set(history["history"][0]) == {"time", "tool0", "bed"}
    tool = (await octo.get("/api/printer/tool?history=true&limit=1")).json()
    assert set(tool) == {"tool0", "history"} and "bed" not in tool["history"][0]
    bed = (await octo.get("/api/printer/bed")).json()
    assert set(bed) == {"bed"}


async def test_printhead_codes(octo: Octo) -> None:
    srv = octo.srv
    await expect(octo, "/api/printer/printhead", {"command": "home", "axes": ["x", "y", "z"]},
                 204)
    assert "G28 X Y Z" in virtual_of(srv).executed
    await expect(octo, "/api/printer/printhead",
                 {"command": "jog", "x": 10, "y": 5, "z": 2, "speed": 3000}, 204)
    await wait_until(lambda: position(srv) == [10.0, 5.0, 2.0], what="jogged")
    assert virtual_of(srv).executed[-3:] == ["G91", "G1 X10 Y5 Z2 F3000", "G90"]
    await expect(octo, "/api/printer/printhead",
                 {"command": "jog", "x": 20, "absolute": True}, 204)
    await wait_until(lambda: position(srv)[0] == 20.0, what="absolute jog")
    await expect(octo, "/api/printer/printhead", {"command": "feedrate", "factor": 110}, 204)
    assert "M220 S110" in virtual_of(srv).executed
    await expect(octo, "/api/printer/printhead", {"command": "feedrate", "factor": 0.9}, 204)
    assert "M220 S90" in virtual_of(srv).executed
    # 400: invalid axis, amount, factor, unknown command
    await expect(octo, "/api/printer/printhead", {"command": "home", "axes": ["x", "q"]}, 400)
    await expect(octo, "/api/printer/printhead", {"command": "jog", "x": "ten"}, 400)
    await expect(octo, "/api/printer/printhead", {"command": "jog"}, 400)
    await expect(octo, "/api/printer/printhead", {"command": "feedrate", "factor": 500}, 400)
    await expect(octo, "/api/printer/printhead", {"command": "dance"}, 400)


async def test_tool_and_bed_codes(octo: Octo) -> None:
    srv = octo.srv
    await expect(octo, "/api/printer/tool", {"command": "target", "targets": {"tool0": 200}},
                 204)
    await wait_until(lambda: target(srv, "extruder") == 200.0, what="tool target")
    await expect(octo, "/api/printer/bed", {"command": "target", "target": 60}, 204)
    await wait_until(lambda: target(srv, "heater_bed") == 60.0, what="bed target")
    temps = (await octo.get("/api/printer")).json()["temperature"]
    assert temps["tool0"]["target"] == 200.0 and temps["bed"]["target"] == 60.0
    # offsets: kept, reported, applied to the next target
    await expect(octo, "/api/printer/tool", {"command": "offset", "offsets": {"tool0": 5}}, 204)
    await expect(octo, "/api/printer/bed", {"command": "offset", "offset": -5}, 204)
    temps = (await octo.get("/api/printer")).json()["temperature"]
    assert temps["tool0"]["offset"] == 5 and temps["bed"]["offset"] == -5
    await expect(octo, "/api/printer/tool", {"command": "target", "targets": {"tool0": 190}},
                 204)
    await wait_until(lambda: target(srv, "extruder") == 195.0, what="offset applied")
    await expect(octo, "/api/printer/tool", {"command": "select", "tool": "tool0"}, 204)
    await expect(octo, "/api/printer/tool", {"command": "extrude", "amount": 5}, 204)
    await expect(octo, "/api/printer/tool",
                 {"command": "extrude", "amount": -3, "speed": 600}, 204)
    # 400: names not tool{n} or not on this printer, numbers, ranges
    for body in (
        {"command": "target", "targets": {"hotend": 200}},
        {"command": "target", "targets": {"tool1": 200}},
        {"command": "target", "targets": {"tool0": "hot"}},
        {"command": "target", "targets": {"tool0": 999}},
        {"command": "target", "targets": {"tool0": -10}},
        {"command": "offset", "offsets": {"tool0": 80}},
        {"command": "offset", "offsets": {"toolA": 1}},
        {"command": "select", "tool": "tool7"},
        {"command": "select", "tool": "extruder"},
        {"command": "extrude", "amount": "lots"},
        {"command": "extrude"},
        {"command": "heat"},
    ):
        await expect(octo, "/api/printer/tool", body, 400)
    bed_cases: list[dict[str, Any]] = [
        {"command": "target", "target": 500}, {"command": "target", "target": "x"},
        {"command": "offset", "offset": 99}, {"command": "target"}]
    for case in bed_cases:
        await expect(octo, "/api/printer/bed", case, 400)
    await expect(octo, "/api/printer/bed", {"command": "target", "target": 0}, 204)
    await expect(octo, "/api/printer/tool", {"command": "target", "targets": {"tool0": 0}}, 204)


async def test_sd_and_command_codes(octo: Octo) -> None:
    srv = octo.srv
    (srv.server.data_dir / "sd").mkdir(exist_ok=True)
    await expect(octo, "/api/printer/sd", {"command": "init"}, 204)
    assert (await octo.get("/api/printer/sd")).json() == {"ready": True}
    await expect(octo, "/api/printer/sd", {"command": "refresh"}, 204)
    await expect(octo, "/api/printer/sd", {"command": "release"}, 204)
    assert (await octo.get("/api/printer/sd")).json() == {"ready": False}
    # refresh/release of a card not initialized: 409
    await expect(octo, "/api/printer/sd", {"command": "refresh"}, 409)
    await expect(octo, "/api/printer/sd", {"command": "release"}, 409)
    await expect(octo, "/api/printer/command", {"command": "M117 hello"}, 204)
    await expect(octo, "/api/printer/command", {"commands": ["G91", "G0 X1", "G90"]}, 204)
    await expect(octo, "/api/printer/command", {"command": "M105", "commands": ["M105"]}, 400)
    await expect(octo, "/api/printer/command", {"commands": "M105"}, 400)
    await expect(octo, "/api/printer/command", {}, 400)
    # a line longer than the firmware's buffer: 400 before any of the commands runs
    vp = virtual_of(srv)
    mark = len(vp.executed)
    await expect(octo, "/api/printer/command", {"commands": ["G91", "M117 " + "a" * 100]}, 400)
    assert vp.executed[mark:] == []
    reply = await octo.post("/api/printer/command", body=b"command=M105",
                            headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert reply.status == 415


async def test_409_while_printing(octo: Octo) -> None:
    await start_long_print(octo)
    for path, body in (
        ("/api/printer/printhead", {"command": "jog", "x": 1}),
        ("/api/printer/printhead", {"command": "home", "axes": ["x"]}),
        ("/api/printer/tool", {"command": "select", "tool": "tool0"}),
        ("/api/printer/tool", {"command": "extrude", "amount": 1}),
        ("/api/job", {"command": "start"}),
        ("/api/files/local/long.gcode", {"command": "select"}),
    ):
        await expect(octo, path, body, 409)
    assert (await octo.delete("/api/files/local/long.gcode")).status == 409
    # temperatures may change while printing
    await expect(octo, "/api/printer/tool", {"command": "target", "targets": {"tool0": 0}}, 204)
    await expect(octo, "/api/job", {"command": "cancel"}, 204)
    await wait_job(octo, ("Operational",))
    # not applicable any more
    await expect(octo, "/api/job", {"command": "cancel"}, 409)
    await expect(octo, "/api/job", {"command": "pause", "action": "pause"}, 409)
    await expect(octo, "/api/job", {"command": "restart"}, 409)


@pytest.mark.allow_error_logs
async def test_409_when_not_operational_and_reconnect(octo: Octo) -> None:
    srv = octo.srv
    printer = printer_of(srv)
    await expect(octo, "/api/connection", {"command": "disconnect"}, 204)
    await wait_until(lambda: printer.state == "disconnected", what="link down")
    assert (await octo.get("/api/printer")).status == 409
    assert (await octo.get("/api/printer/tool")).status == 409
    assert (await octo.get("/api/printer/bed")).status == 409
    for path, body in (
        ("/api/printer/printhead", {"command": "jog", "x": 1}),
        ("/api/printer/printhead", {"command": "home", "axes": ["x"]}),
        ("/api/printer/tool", {"command": "target", "targets": {"tool0": 200}}),
        ("/api/printer/tool", {"command": "extrude", "amount": 1}),
        ("/api/printer/bed", {"command": "target", "target": 50}),
        ("/api/printer/sd", {"command": "init"}),
        ("/api/printer/command", {"command": "M105"}),
        ("/api/job", {"command": "start"}),
    ):
        await expect(octo, path, body, 409)
    job = (await octo.get("/api/job")).json()
    assert job["state"] == "Offline" and job["job"]["file"]["name"] is None
    connection = (await octo.get("/api/connection")).json()
    assert connection["current"]["state"] == "Closed"
    assert connection["current"]["port"] is None
    # connect drives the host link again
    await expect(octo, "/api/connection", {"command": "connect", "port": "BOGUS"}, 400)
    await expect(octo, "/api/connection", {"command": "connect"}, 204)
    await wait_until(lambda: printer.state == "ready", what="reconnected")
    connection = (await octo.get("/api/connection")).json()
    assert connection["current"]["state"] == "Operational"
    assert connection["current"]["port"] == "VIRTUAL"
    assert (await octo.get("/api/printer")).status == 200
