"""The printer component against the built-in virtual printer, through the real API."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from components.printer.api import JobFinished
from components.printer.gcode_state import GcodeState
from tests.harness import RpcError, RunningServer
from tests.printer.conftest import (
    printer_of,
    square_print,
    virtual_of,
    wait_until,
    write_gcode,
)


async def test_info_and_objects_list_describe_a_ready_printer(live: RunningServer) -> None:
    ws = await live.websocket()
    info = await ws.call("printer.info")
    assert info["state"] == "ready" and info["state_message"] == "Printer is ready"
    assert info["software_version"].startswith("v0.12.0")
    objects = (await ws.call("printer.objects.list"))["objects"]
    for name in ("webhooks", "print_stats", "virtual_sdcard", "display_status", "pause_resume",
                 "idle_timeout", "toolhead", "gcode_move", "extruder", "heater_bed", "fan",
                 "heaters", "configfile", "gcode_macro PAUSE", "gcode_macro RESUME",
                 "gcode_macro CANCEL_PRINT", "motion_report", "system_stats"):
        assert name in objects
    server_info = await ws.call("server.info")
    assert server_info["klippy_connected"] and server_info["klippy_state"] == "ready"


async def test_query_shapes_match_klipper(live: RunningServer) -> None:
    ws = await live.websocket()
    reply = await ws.call("printer.objects.query", {"objects": {
        "webhooks": None, "print_stats": None, "extruder": ["temperature", "target"],
        "heaters": None, "configfile": ["settings"], "nope": None}})
    status = reply["status"]
    assert isinstance(reply["eventtime"], float)
    assert set(status) == {"webhooks", "print_stats", "extruder", "heaters", "configfile"}
    assert set(status["print_stats"]) == {"filename", "total_duration", "print_duration",
                                          "filament_used", "state", "message", "info"}
    assert set(status["extruder"]) == {"temperature", "target"}
    assert status["heaters"]["available_heaters"] == ["extruder", "heater_bed"]
    settings = status["configfile"]["settings"]
    assert settings["printer"]["kinematics"] == "cartesian"
    assert settings["extruder"]["max_temp"] == 275.0
    assert "gcode_macro pause" in settings
    http = await live.http.get("/printer/objects/query?print_stats=state,filename&extruder")
    body = http.json()["result"]["status"]
    assert body["print_stats"] == {"state": "standby", "filename": ""}
    assert "can_extrude" in body["extruder"]


async def test_subscription_pushes_only_changed_fields_with_increasing_eventtime(
    live: RunningServer,
) -> None:
    ws = await live.websocket()
    first = await ws.call("printer.objects.subscribe", {"objects": {
        "extruder": ["target", "temperature"], "gcode_move": ["speed_factor"]}})
    assert first["status"]["extruder"]["target"] == 0.0
    start = len(ws.notifications)
    await ws.call("printer.gcode.script", {"script": "M104 S180\nM220 S150"})
    note = await ws.wait_notification(
        "notify_status_update",
        lambda n: n["params"][0].get("extruder", {}).get("target") == 180.0,
        start=start)
    await ws.wait_notification(
        "notify_status_update",
        lambda n: n["params"][0].get("gcode_move", {}).get("speed_factor") == 1.5,
        start=start)
    updates = [n for n in ws.notifications[start:] if n["method"] == "notify_status_update"]
    for update in updates:
        diff = update["params"][0]
        assert set(diff) <= {"extruder", "gcode_move"}
        assert set(diff.get("extruder", {})) <= {"target", "temperature"}
        assert set(diff.get("gcode_move", {})) <= {"speed_factor"}
    times = [u["params"][1] for u in updates]
    assert times == sorted(times) and len(set(times)) == len(times)
    assert note["params"][0]["extruder"]["target"] == 180.0


async def test_gcode_script_answers_after_the_script_has_executed(live: RunningServer) -> None:
    ws = await live.websocket()
    vp = virtual_of(live)
    await ws.call("printer.gcode.script", {"script": "G28\nG1 X100 Y100 F6000\nM400\nM114"})
    assert vp.executed[-4:] == ["G28", "G1 X100 Y100 F6000", "M400", "M114"]
    status = await ws.call("printer.objects.query", {"objects": {"gcode_move": None,
                                                                 "toolhead": ["homed_axes"]}})
    assert status["status"]["gcode_move"]["gcode_position"][:2] == [100.0, 100.0]
    assert status["status"]["toolhead"]["homed_axes"] == "xyz"


async def test_console_shows_m114_output_and_the_stores_fill(live: RunningServer) -> None:
    ws = await live.websocket()
    await ws.call("printer.gcode.script", {"script": "M114"})
    note = await ws.wait_notification(
        "notify_gcode_response", lambda n: n["params"][0].startswith("X:"))
    assert "Count" in note["params"][0]
    store = (await ws.call("server.gcode_store", {"count": 10}))["gcode_store"]
    assert {"message": "M114", "type": "command"}.items() <= store[-2].items()
    assert store[-1]["type"] == "response" and store[-1]["message"].startswith("X:")
    await wait_until(lambda: printer_of(live).temperature_sensors() is not None)
    temps: dict[str, Any] = {}
    deadline = asyncio.get_running_loop().time() + 10
    while not temps.get("extruder", {}).get("temperatures"):
        assert asyncio.get_running_loop().time() < deadline, "no temperature sample in 10 s"
        await asyncio.sleep(0.05)
        temps = await ws.call("server.temperature_store", {"include_monitors": True})
    assert set(temps["extruder"]) == {"temperatures", "targets", "powers"}
    assert temps["heater_bed"]["temperatures"][-1] > 0


async def test_unknown_command_is_an_error_with_the_firmware_message(
    live: RunningServer,
) -> None:
    ws = await live.websocket()
    with pytest.raises(RpcError) as err:
        await ws.call("printer.gcode.script", {"script": "M9999"})
    assert err.value.code == 400
    assert "Unknown command" in err.value.message
    await ws.wait_notification("notify_gcode_response",
                               lambda n: n["params"][0].startswith("!! Unknown command"))


async def test_print_runs_to_complete_with_progress_and_stats(live: RunningServer) -> None:
    ws = await live.websocket()
    commands = write_gcode(live, "square.gcode", square_print())
    await ws.call("printer.objects.subscribe", {"objects": {"print_stats": None,
                                                            "virtual_sdcard": None}})
    finished: list[JobFinished] = []
    live.server.events.subscribe(JobFinished, finished.append)
    await ws.call("printer.print.start", {"filename": "square.gcode"})
    await ws.wait_notification(
        "notify_status_update",
        lambda n: n["params"][0].get("print_stats", {}).get("state") == "complete",
        timeout=60)
    status = (await ws.call("printer.objects.query", {"objects": {
        "print_stats": None, "virtual_sdcard": None}}))["status"]
    assert status["virtual_sdcard"]["progress"] == 1.0
    assert status["virtual_sdcard"]["is_active"] is False
    stats = status["print_stats"]
    assert stats["filename"] == "square.gcode"
    assert stats["filament_used"] == pytest.approx(3 * 40 * 0.05, abs=1e-6)
    assert stats["info"] == {"total_layer": 3, "current_layer": 3}
    assert 0 < stats["print_duration"] <= stats["total_duration"]
    assert virtual_of(live).executed[-len(commands):] == commands
    assert finished and finished[0].filename == "square.gcode" and finished[0].status == "completed"
    assert finished[0].filament_used == pytest.approx(6.0)


async def test_start_refuses_a_missing_file_and_a_second_print(live: RunningServer) -> None:
    ws = await live.websocket()
    missing = await ws.request("printer.print.start", {"filename": "nope.gcode"})
    assert missing["error"]["code"] == 400 and "nope.gcode" in missing["error"]["message"]
    write_gcode(live, "long.gcode", square_print(layers=20))
    await ws.call("printer.print.start", {"filename": "long.gcode"})
    busy = await ws.request("printer.print.start", {"filename": "long.gcode"})
    assert busy["error"]["code"] == 409
    await ws.call("printer.print.cancel")


def replay(commands: list[str]) -> GcodeState:
    state = GcodeState()
    for command in commands:
        state.apply(command)
    return state


async def test_pause_parks_and_resume_returns_to_the_exact_position_and_feedrate(
    live: RunningServer,
) -> None:
    ws = await live.websocket()
    vp = virtual_of(live)
    commands = write_gcode(live, "pause.gcode", square_print(layers=6))
    await ws.call("printer.objects.subscribe", {"objects": {"print_stats": ["state"]}})
    before = len(vp.executed)
    await ws.call("printer.print.start", {"filename": "pause.gcode"})
    await wait_until(lambda: len(vp.executed) - before > 60, what="print under way")
    await ws.call("printer.print.pause")
    status = await ws.call("printer.objects.query", {"objects": {"pause_resume": None,
                                                                 "print_stats": ["state"]}})
    assert status["status"]["pause_resume"]["is_paused"] is True
    assert status["status"]["print_stats"]["state"] == "paused"
    await ws.call("printer.print.resume")
    await ws.wait_notification(
        "notify_status_update",
        lambda n: n["params"][0].get("print_stats", {}).get("state") == "complete", timeout=60)
    # M108 (breaks a heating wait at once) is the emergency parser's, not a print line
    executed = [c for c in vp.executed[before:] if c != "M108"]
    k = 0
    while executed[k] == commands[k]:
        k += 1
    saved = replay(commands[:k])
    x, y, z, e = saved.position
    park = ["M83", "G1 E-1.0000 F2100", "G91", f"G1 Z{10.0:.4f} F600", "G90",
            "G1 X0.0000 Y220.0000 F6000"]
    back = ["G90", f"G1 X{x:.4f} Y{y:.4f} F6000", f"G1 Z{z:.4f} F600", "M83",
            "G1 E1.0000 F2100"]
    back += (["M82"] if saved.absolute_extrude else []) + [f"G92 E{e:.5f}"]
    back += [f"G1 F{saved.feedrate:.0f}"]
    assert executed[k : k + len(park)] == park
    assert executed[k + len(park) : k + len(park) + len(back)] == back
    assert executed[k + len(park) + len(back):] == commands[k:]


async def test_cancel_during_pause_runs_the_cancel_gcode(live: RunningServer) -> None:
    ws = await live.websocket()
    vp = virtual_of(live)
    write_gcode(live, "cancel.gcode", square_print(layers=10))
    finished: list[JobFinished] = []
    live.server.events.subscribe(JobFinished, finished.append)
    before = len(vp.executed)
    await ws.call("printer.print.start", {"filename": "cancel.gcode"})
    await wait_until(lambda: len(vp.executed) - before > 30, what="print under way")
    await ws.call("printer.print.pause")
    await ws.call("printer.print.cancel")
    # the cancel answers at once; its script runs as soon as the firmware is free
    await wait_until(lambda: bool(finished), what="the cancel's end")
    status = (await ws.call("printer.objects.query", {"objects": {
        "print_stats": ["state"], "virtual_sdcard": ["is_active"],
        "pause_resume": None}}))["status"]
    assert status["print_stats"]["state"] == "cancelled"
    assert status["virtual_sdcard"]["is_active"] is False
    assert status["pause_resume"]["is_paused"] is False
    assert vp.executed[-4:] == ["M104 S0", "M140 S0", "M107", "M84"]
    assert finished[0].status == "cancelled"
    again = await ws.request("printer.print.resume")
    assert again["error"]["code"] == 409


@pytest.mark.allow_error_logs
async def test_thermal_runaway_mid_print_ends_in_error_with_the_message(
    live: RunningServer,
) -> None:
    ws = await live.websocket()
    vp = virtual_of(live)
    write_gcode(live, "runaway.gcode", square_print(layers=20))
    finished: list[JobFinished] = []
    live.server.events.subscribe(JobFinished, finished.append)
    before = len(vp.executed)
    await ws.call("printer.objects.subscribe", {"objects": {"webhooks": None}})
    await ws.call("printer.print.start", {"filename": "runaway.gcode"})
    await wait_until(lambda: len(vp.executed) - before > 30, what="print under way")
    vp.thermal_runaway("E0")
    await wait_until(lambda: bool(finished), what="job end")
    assert finished[0].status in ("klippy_shutdown", "error")
    printer = printer_of(live)
    await wait_until(lambda: printer.state == "shutdown", what="shutdown state")
    stats = printer.query_status({"print_stats": ["state", "message"]})["print_stats"]
    assert stats["state"] == "error"
    assert "Thermal Runaway" in stats["message"] or "halted" in stats["message"]
    assert "Thermal Runaway" in printer.state_message or "halted" in printer.state_message
    info = await ws.call("server.info")
    assert info["klippy_state"] == "shutdown"
    await ws.wait_notification("notify_klippy_shutdown")
