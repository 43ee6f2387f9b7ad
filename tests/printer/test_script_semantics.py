"""Klipper's script semantics on Marlin: a script stops at its first failing line, an
unknown extended command is the host's answer, moves beyond the limits are refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.harness import RunningServer, running_server
from tests.printer.conftest import FAST_PRINTER, printer_of, virtual_of, wait_until


async def script_error(live: RunningServer, script: str, http: bool) -> tuple[int, str]:
    if http:
        reply = await live.http.post("/printer/gcode/script", json={"script": script})
        return reply.status, reply.json()["error"]["message"]
    ws = await live.websocket()
    answer = await ws.request("printer.gcode.script", {"script": script})
    return answer["error"]["code"], answer["error"]["message"]


@pytest.mark.parametrize("http", [False, True], ids=["websocket", "http"])
async def test_an_unknown_extended_command_stops_the_script_and_reaches_no_printer(
    live: RunningServer, http: bool
) -> None:
    vp = virtual_of(live)
    mark = len(vp.executed)
    code, message = await script_error(live, "G91\nFOO_BAR X=1\nG1 X10\nG90", http)
    assert code == 400
    assert message == 'Unknown command:"FOO_BAR" (script line 2: FOO_BAR X=1)'
    # the line before it ran; nothing after it reached the printer
    assert vp.executed[mark:] == ["G91"]


@pytest.mark.parametrize("http", [False, True], ids=["websocket", "http"])
async def test_a_line_the_firmware_refuses_stops_the_script_there(
    live: RunningServer, http: bool
) -> None:
    vp = virtual_of(live)
    await live.websocket()
    mark = len(vp.executed)
    code, message = await script_error(live, "G28 X\nM9999\nG1 X10\nG1 X20", http)
    assert code == 400 and "Unknown command" in message and "M9999" in message
    # lockstep: G1 X10 had not been sent when M9999 failed
    assert "G1 X10" not in vp.executed[mark:] and "G1 X20" not in vp.executed[mark:]


async def test_the_console_shows_the_error_line(live: RunningServer) -> None:
    ws = await live.websocket()
    await ws.request("printer.gcode.script", {"script": "NOT_A_COMMAND"})
    await ws.wait_notification(
        "notify_gcode_response", lambda n: n["params"][0] == '!! Unknown command:"NOT_A_COMMAND"')


@pytest.mark.parametrize("http", [False, True], ids=["websocket", "http"])
async def test_a_move_beyond_the_reported_limits_is_out_of_range(
    live: RunningServer, http: bool
) -> None:
    vp = virtual_of(live)
    printer = printer_of(live)
    # no [printer] limits configured: the virtual firmware's M211 soft endstops count
    await wait_until(lambda: printer.core.limits.axes.source == "soft_endstops",
                     what="limits from M211")
    await live.websocket()
    await printer.run_gcode("G28")
    mark = len(vp.executed)
    code, message = await script_error(live, "G1 X1000000 F6000", http)
    assert (code, message) == (400, "Move out of range: 1000000.000 0.000 0.000 [0.000]")
    code, message = await script_error(live, "G91\nG1 Z300\nG90", http)
    assert message.startswith("Move out of range: 0.000 0.000 300.000")
    assert vp.executed[mark:] == ["G91"]
    await printer.run_gcode("G90\nG1 X235 Y235 Z250 F6000")  # the edge is inside
    state = printer.query_status({"toolhead": ["axis_minimum", "axis_maximum"]})["toolhead"]
    assert state["axis_maximum"] == [235.0, 235.0, 250.0, 0.0]


async def test_configured_limits_win_over_the_firmwares(tmp_path: Path) -> None:
    config = FAST_PRINTER + "\n[printer]\nx_max: 200\ny_max: 200\nz_max: 180\n"
    async with running_server(tmp_path, config) as srv:
        printer = printer_of(srv)
        await wait_until(lambda: printer.state == "ready", what="ready")
        await wait_until(printer.core.settled.is_set, what="the connect queries answered")
        ws = await srv.websocket()
        reply = await ws.request("printer.gcode.script", {"script": "G1 X210"})
        assert reply["error"]["message"].startswith("Move out of range: 210.000")
        limits = printer.query_status({"toolhead": ["axis_maximum"], "configfile": ["settings"]})
        assert limits["toolhead"]["axis_maximum"] == [200.0, 200.0, 180.0, 0.0]
        assert limits["configfile"]["settings"]["stepper_x"]["position_max"] == 200.0
        # the warning cards name the disagreement with the firmware's 235 x 235 x 250
        await wait_until(lambda: bool(printer.query_status({"configfile": ["warnings"]})[
            "configfile"]["warnings"]), what="the warning")
        warning = printer.query_status({"configfile": ["warnings"]})["configfile"]["warnings"]
        assert "(235.0, 235.0, 250.0)" in warning[0]["message"]


async def test_help_lists_host_and_firmware_commands_with_their_help(
    live: RunningServer,
) -> None:
    ws = await live.websocket()
    start = len(ws.notifications)
    await ws.call("printer.gcode.script", {"script": "help"})
    await ws.wait_notification("notify_gcode_response",
                               lambda n: n["params"][0].startswith("// M999"), start=start)
    lines = [n["params"][0] for n in ws.notifications[start:]
             if n["method"] == "notify_gcode_response"]
    # (the firmware may say something of its own meanwhile: the listing is what follows
    # its heading)
    lines = lines[lines.index("// Available extended commands:"):]
    for name in ("SET_HEATER_TEMPERATURE", "SAVE_GCODE_STATE", "EXCLUDE_OBJECT", "HELP",
                 "SET_PAUSE_AT_LAYER", "G1", "M104"):
        assert any(line.startswith(f"// {name}") and ": " in line for line in lines), name
    helps = await ws.call("printer.gcode.help")
    assert helps["SET_GCODE_OFFSET"] and helps["M104"]


async def test_host_commands_answer_in_the_console(live: RunningServer) -> None:
    ws = await live.websocket()
    printer = printer_of(live)
    start = len(ws.notifications)
    await ws.call("printer.gcode.script", {"script": "\n".join([
        "STATUS", 'RESPOND PREFIX=info MSG="hello there"', "RESPOND TYPE=error MSG=oops",
        'SET_DISPLAY_TEXT MSG="Layer 1"', "G28", "QUERY_ENDSTOPS", "GET_POSITION"])})

    def said(text: str) -> Any:
        return ws.wait_notification("notify_gcode_response",
                                    lambda n: n["params"][0] == text, start=start)

    await said("// Klipper state: Ready")
    await said("info hello there")
    await said("!! oops")
    await said("x:TRIGGERED y:TRIGGERED z:TRIGGERED")
    await ws.wait_notification("notify_gcode_response",
                               lambda n: n["params"][0].startswith("// gcode homing: X:0.0"),
                               start=start)
    display = printer.query_status({"display_status": ["message"]})["display_status"]
    assert display["message"] == "Layer 1"


async def test_set_print_stats_info_and_sdcard_reset_file(live: RunningServer) -> None:
    ws = await live.websocket()
    printer = printer_of(live)
    await ws.call("printer.gcode.script",
                  {"script": "SET_PRINT_STATS_INFO TOTAL_LAYER=12\n"
                             "set_print_stats_info current_layer=3"})
    info = printer.query_status({"print_stats": ["info"]})["print_stats"]["info"]
    assert info == {"total_layer": 12, "current_layer": 3}
    reply = await ws.request("printer.gcode.script",
                             {"script": "SET_PRINT_STATS_INFO CURRENT_LAYER=x"})
    assert reply["error"]["code"] == 400 and "CURRENT_LAYER" in reply["error"]["message"]
    await ws.call("printer.gcode.script", {"script": "SDCARD_RESET_FILE"})
    stats = printer.query_status({"print_stats": None})["print_stats"]
    assert stats["state"] == "standby" and stats["info"]["total_layer"] is None


async def test_temperature_wait_waits_for_the_reported_temperature(
    live: RunningServer,
) -> None:
    ws = await live.websocket()
    printer = printer_of(live)
    await ws.call("printer.gcode.script", {"script": "M104 S60\n"
                                           "TEMPERATURE_WAIT SENSOR=extruder MINIMUM=55"})
    assert printer.query_status({"extruder": ["temperature"]})["extruder"]["temperature"] >= 55
    bad = await ws.request("printer.gcode.script",
                           {"script": "TEMPERATURE_WAIT SENSOR=nope MINIMUM=1"})
    assert "Unknown sensor 'nope'" in bad["error"]["message"]
    await ws.call("printer.gcode.script", {"script": "M104 S0"})


async def test_set_fan_speed_drives_a_configured_generic_fan(tmp_path: Path) -> None:
    config = FAST_PRINTER + "\n[fan_generic aux]\nindex: 2\n"
    async with running_server(tmp_path, config) as srv:
        printer = printer_of(srv)
        await wait_until(lambda: printer.state == "ready", what="ready")
        await wait_until(printer.core.settled.is_set, what="the connect queries answered")
        ws = await srv.websocket()
        await ws.call("printer.gcode.script", {"script": "SET_FAN_SPEED FAN=aux SPEED=0.5"})
        assert virtual_of(srv).executed[-1] == "M106 P2 S128"
        assert printer.query_status({"fan_generic aux": ["speed"]}) == {
            "fan_generic aux": {"speed": 0.5}}
        bad = await ws.request("printer.gcode.script", {"script": "SET_FAN_SPEED FAN=x SPEED=1"})
        assert "not valid for FAN" in bad["error"]["message"]


async def test_babystepping_firmware_gets_m290_and_unchanged_moves(tmp_path: Path) -> None:
    config = FAST_PRINTER + "virtual_babystepping: True\n"
    async with running_server(tmp_path, config) as srv:
        printer = printer_of(srv)
        await wait_until(lambda: printer.state == "ready", what="ready")
        await wait_until(printer.core.settled.is_set, what="the connect queries answered")
        ws = await srv.websocket()
        vp = virtual_of(srv)
        await ws.call("printer.gcode.script", {"script": "G28\nG1 Z1 F600"})
        await ws.call("printer.gcode.script",
                      {"script": "SET_GCODE_OFFSET Z_ADJUST=+0.05 MOVE=1"})
        assert vp.executed[-1] == "M290 Z0.05"
        assert vp.firmware.tuning.babystep == {"Z": 0.05}
        await ws.call("printer.gcode.script", {"script": "G1 Z2 F600"})
        assert vp.executed[-1] == "G1 Z2 F600"
        move = printer.query_status({"gcode_move": None})["gcode_move"]
        assert move["homing_origin"] == pytest.approx([0.0, 0.0, 0.05, 0.0])
        assert move["gcode_position"][2] == pytest.approx(2.0)


async def test_firmware_restart_shows_the_firmwares_targets_and_standby(
    live: RunningServer,
) -> None:
    ws = await live.websocket()
    printer = printer_of(live)
    await ws.call("printer.gcode.script", {"script": "M104 S150\nM140 S50\n"
                                           "SET_GCODE_OFFSET Z=0.2\nG91"})
    await ws.call("printer.objects.subscribe", {"objects": {"extruder": ["target"]}})
    start = len(ws.notifications)
    await ws.call("printer.gcode.script", {"script": "FIRMWARE_RESTART"})
    await ws.wait_notification("notify_gcode_response",
                               lambda n: n["params"][0] == "// Firmware restarted", start=start)
    await ws.wait_notification("notify_klippy_ready", start=start)
    start = len(ws.notifications)
    state = printer.query_status({"extruder": ["target"], "heater_bed": ["target"],
                                  "gcode_move": None, "print_stats": ["state"]})
    assert state["extruder"]["target"] == 0.0 and state["heater_bed"]["target"] == 0.0
    assert state["gcode_move"]["absolute_coordinates"] is True
    assert state["gcode_move"]["homing_origin"] == [0.0, 0.0, 0.0, 0.0]
    assert state["print_stats"]["state"] == "standby"
    # a console command later does not bring the old target back
    await ws.call("printer.gcode.script", {"script": "G90"})
    targets = [n["params"][0]["extruder"]["target"] for n in ws.notifications[start:]
               if n["method"] == "notify_status_update"
               and "target" in n["params"][0].get("extruder", {})]
    assert 150.0 not in targets


async def test_the_firmwares_settings_show_and_the_z_offset_applies_to_the_endstop(
    live: RunningServer,
) -> None:
    ws = await live.websocket()
    printer = printer_of(live)
    vp = virtual_of(live)
    # M503 at connect: the firmware's feed rates and accelerations, not the config's guess
    toolhead = printer.query_status({"toolhead": None})["toolhead"]
    assert toolhead["max_velocity"] == 300.0 and toolhead["max_accel"] == 3000.0
    start = len(ws.notifications)
    await ws.call("printer.gcode.script", {"script": "G28\nG1 Z5 F600\n"
                                           "SET_GCODE_OFFSET Z_ADJUST=+0.05 MOVE=1"})
    await ws.call("printer.gcode.script", {"script": "Z_OFFSET_APPLY_ENDSTOP"})
    assert vp.executed[-1] == "M206 Z-0.05"
    assert vp.firmware.tuning.home_offset == [0.0, 0.0, -0.05]
    move = printer.query_status({"gcode_move": None, "configfile": ["save_config_pending"]})
    assert move["gcode_move"]["homing_origin"] == [0.0, 0.0, 0.0, 0.0]
    assert move["gcode_move"]["gcode_position"][2] == pytest.approx(5.0)
    assert move["configfile"]["save_config_pending"] is True
    # the nozzle stays where it was: the same G-code Z goes to the same place as before
    await ws.call("printer.gcode.script", {"script": "G1 Z5 F600"})
    assert vp.executed[-1] == "G1 Z5 F600" and vp.firmware.pos[2] == pytest.approx(5.0)
    await ws.call("printer.gcode.script", {"script": "SAVE_CONFIG"})
    assert vp.executed[-1] == "M500"
    assert printer.query_status({"configfile": ["save_config_pending"]})[
        "configfile"]["save_config_pending"] is False
    # the console heard nothing of the host's own M211/M503 at connect
    lines = [n["params"][0] for n in ws.notifications[start:]
             if n["method"] == "notify_gcode_response"]
    assert not [line for line in lines if "M203" in line or "Soft endstops" in line]


async def test_restart_clears_a_finished_job_and_is_refused_while_printing(
    live: RunningServer,
) -> None:
    from tests.printer.conftest import write_gcode

    ws = await live.websocket()
    printer = printer_of(live)
    write_gcode(live, "short.gcode", ["G28", "G1 X10 F6000"])
    await ws.call("printer.print.start", {"filename": "short.gcode"})
    await wait_until(lambda: printer.query_status({"print_stats": ["state"]})[
        "print_stats"]["state"] == "complete", what="complete")
    start = len(ws.notifications)
    await ws.call("printer.gcode.script", {"script": "RESTART"})
    await ws.wait_notification("notify_klippy_ready", start=start)
    stats = printer.query_status({"print_stats": ["state", "filename"]})["print_stats"]
    assert stats == {"state": "standby", "filename": ""}
    write_gcode(live, "long.gcode", ["G28", *[f"G1 X{i % 50} F3000" for i in range(400)]])
    await ws.call("printer.print.start", {"filename": "long.gcode"})
    for script in ("RESTART", "FIRMWARE_RESTART", "SDCARD_RESET_FILE"):
        refused = await ws.request("printer.gcode.script", {"script": script})
        assert refused["error"]["code"] in (400, 409), script
    assert printer.query_status({"print_stats": ["state"]})["print_stats"]["state"] == "printing"
    await ws.call("printer.print.cancel")
