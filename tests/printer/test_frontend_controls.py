"""Mainsail's and Fluidd's own control scripts (tests/printer/frontend_scripts.py) on the
virtual printer: what the firmware received, and the Klipper-shaped objects after."""

from __future__ import annotations

from typing import Any

import pytest

from tests.harness import RunningServer, Websocket
from tests.printer import frontend_scripts as fs
from tests.printer.conftest import virtual_of


async def status(ws: Websocket, **objects: Any) -> dict[str, Any]:
    reply = await ws.call("printer.objects.query", {"objects": objects})
    return dict(reply["status"])


def sent_since(live: RunningServer, mark: int) -> list[str]:
    # M108/M410 are the emergency parser's, never part of a script
    return [c for c in virtual_of(live).executed[mark:] if c not in ("M108", "M410")]


async def test_mainsail_jog_then_absolute_move_leaves_the_firmware_absolute(
    live: RunningServer,
) -> None:
    ws = await live.websocket()
    vp = virtual_of(live)
    await ws.call("printer.gcode.script", {"script": "G28\nG90\nM82\nG1 X50 Y50 F6000"})
    mark = len(vp.executed)
    await ws.call("printer.gcode.script",
                  {"script": fs.MAINSAIL_JOG.format(gcode="X+10", feedrate60=6000)})
    # the firmware is back in G90 (and absolute E): the next absolute move goes to X20
    await ws.call("printer.gcode.script",
                  {"script": fs.MAINSAIL_MOVE_TO.format(x=20, y=30, feedrate60=6000)})
    assert sent_since(live, mark) == ["G91", "G1 X+10 F6000", "G90",
                                      "G90", "G1 X20 Y30 F6000", "G90"]
    fw = vp.firmware
    assert (fw.pos[0], fw.pos[1]) == (20.0, 30.0)
    assert not fw.relative and not fw.e_relative
    move = (await status(ws, gcode_move=None))["gcode_move"]
    assert move["absolute_coordinates"] is True and move["absolute_extrude"] is True
    assert move["gcode_position"][:2] == [20.0, 30.0]


@pytest.mark.parametrize("script", [
    fs.MAINSAIL_JOG.format(gcode="X+1000", feedrate60=6000),
    fs.FLUIDD_MOVE.format(absolute=1, movement="X1000", rate60=6000),
], ids=["mainsail", "fluidd"])
async def test_a_jog_beyond_the_limits_fails_and_still_restores_the_modes(
    live: RunningServer, script: str
) -> None:
    ws = await live.websocket()
    vp = virtual_of(live)
    await ws.call("printer.gcode.script", {"script": "G28\nG90\nM82\nG1 X50 Y50 F6000"})
    mark = len(vp.executed)
    answer = await ws.request("printer.gcode.script", {"script": script})
    assert "Move out of range" in answer["error"]["message"]
    # the script stopped at the move, and its RESTORE_GCODE_STATE put the modes back
    assert sent_since(live, mark) == ["G91", "G90"]
    fw = vp.firmware
    assert not fw.relative and not fw.e_relative and fw.pos[0] == 50.0
    move = (await status(ws, gcode_move=None))["gcode_move"]
    assert move["absolute_coordinates"] is True and move["absolute_extrude"] is True


async def test_fluidd_relative_and_absolute_moves_restore_relative_extrusion(
    live: RunningServer,
) -> None:
    ws = await live.websocket()
    vp = virtual_of(live)
    # a user who chose relative extrusion (M83) keeps it after Fluidd's moves
    await ws.call("printer.gcode.script", {"script": "G28\nG90\nM83"})
    mark = len(vp.executed)
    await ws.call("printer.gcode.script", {"script": fs.FLUIDD_MOVE.format(
        absolute=1, movement="Z10", rate60=600)})
    await ws.call("printer.gcode.script", {"script": fs.FLUIDD_MOVE.format(
        absolute=0, movement="X100 Y100", rate60=6000)})
    # the modes and the feed rate of before (Klipper restores the speed too)
    assert sent_since(live, mark) == ["G91", "G1 Z10 F600", "G90", "M83", "G1 F1500",
                                      "G90", "G1 X100 Y100 F6000", "G90", "M83", "G1 F1500"]
    fw = vp.firmware
    assert fw.pos[:3] == [100.0, 100.0, 10.0]
    assert not fw.relative and fw.e_relative and fw.feedrate == 25.0


@pytest.mark.parametrize("script", [
    fs.MAINSAIL_EXTRUDE.format(length=5, feedrate60=300),
    fs.FLUIDD_EXTRUDE.format(amount=5, rate60=300),
])
async def test_extrude_buttons_restore_absolute_extrusion_and_the_e_position(
    live: RunningServer, script: str
) -> None:
    ws = await live.websocket()
    vp = virtual_of(live)
    await ws.call("printer.gcode.script", {"script": "M302 P1\nG90\nM82\nG92 E12.5"})
    mark = len(vp.executed)
    await ws.call("printer.gcode.script", {"script": script})
    assert sent_since(live, mark) == ["M83", "G1 E5 F300", "G90", "G92 E12.50000",
                                      "G1 F1500"]
    fw = vp.firmware
    assert not fw.e_relative and fw.pos[3] == 12.5
    move = (await status(ws, gcode_move=None))["gcode_move"]
    assert move["absolute_extrude"] is True and move["gcode_position"][3] == 12.5


async def test_presets_targets_and_cooldown_reach_the_heaters(live: RunningServer) -> None:
    ws = await live.websocket()
    vp = virtual_of(live)
    mark = len(vp.executed)
    for name, value in (("extruder", 200), ("heater_bed", 60)):
        await ws.call("printer.gcode.script",
                      {"script": fs.MAINSAIL_PRESET.format(name=name, value=value)})
    state = await status(ws, extruder=["target"], heater_bed=["target"])
    assert state["extruder"]["target"] == 200.0 and state["heater_bed"]["target"] == 60.0
    await ws.call("printer.gcode.script", {"script": fs.FLUIDD_SET_TARGET.format(
        heater=fs.encode_gcode_param_value("extruder"), target=180)})
    await ws.call("printer.gcode.script", {"script": fs.MAINSAIL_COOLDOWN})
    assert sent_since(live, mark) == ["M104 S200", "M140 S60", "M104 S180",
                                      "M104 S0", "M140 S0"]
    state = await status(ws, extruder=["target"], heater_bed=["target"])
    assert state["extruder"]["target"] == 0.0 and state["heater_bed"]["target"] == 0.0
    heaters = vp.firmware.thermal
    assert heaters.hotends[0].target == 0.0 and heaters.bed is not None
    assert heaters.bed.target == 0.0


@pytest.mark.parametrize("script", [
    "SET_HEATER_TEMPERATURE HEATER=extruder TARGET=999",
    "M104 S999",
    "M109 S276",
    "M140 S121",
    "M190 R150",
])
async def test_a_target_above_max_temp_is_refused_naming_the_limit(
    live: RunningServer, script: str
) -> None:
    ws = await live.websocket()
    vp = virtual_of(live)
    mark = len(vp.executed)
    reply = await ws.request("printer.gcode.script", {"script": script})
    assert reply["error"]["code"] == 400
    limit = "275.0" if "HEATER" in script or script.startswith("M10") else "120.0"
    assert f":{limit})" in reply["error"]["message"]
    assert "Requested temperature" in reply["error"]["message"]
    assert vp.executed[mark:] == []
    http = await live.http.post("/printer/gcode/script", json={"script": script})
    assert http.status == 400 and limit in http.json()["error"]["message"]


@pytest.mark.parametrize(("script", "offset"), [
    (fs.MAINSAIL_Z_UP.format(offset=0.05, move="MOVE=1"), 0.05),
    (fs.MAINSAIL_Z_DOWN.format(offset=0.05, move=""), -0.05),
    (fs.FLUIDD_Z_ADJUST.format(direction="+", distance=0.05, homed=1), 0.05),
])
async def test_z_offset_without_babystepping_is_added_to_later_moves(
    live: RunningServer, script: str, offset: float
) -> None:
    ws = await live.websocket()
    vp = virtual_of(live)
    await ws.call("printer.gcode.script", {"script": "G28\nG1 Z5 F600"})
    mark = len(vp.executed)
    await ws.call("printer.gcode.script", {"script": script})
    moved = "MOVE=1" in script
    expected = [*(["G91", f"G1 Z{offset:g} F600", "G90"] if moved else [])]
    assert sent_since(live, mark) == expected
    origin = (await status(ws, gcode_move=["homing_origin"]))["gcode_move"]["homing_origin"]
    assert origin == pytest.approx([0.0, 0.0, offset, 0.0])
    await ws.call("printer.gcode.script", {"script": "G1 Z2 F600"})
    assert vp.executed[-1] == f"G1 Z{2 + offset:g} F600"
    move = (await status(ws, gcode_move=None))["gcode_move"]
    assert move["gcode_position"][2] == pytest.approx(2.0)
    assert move["position"][2] == pytest.approx(2 + offset)
    await ws.call("printer.gcode.script", {"script": fs.MAINSAIL_Z_CLEAR.format(move=" MOVE=1")})
    assert vp.firmware.pos[2] == pytest.approx(2.0)
    origin = (await status(ws, gcode_move=["homing_origin"]))["gcode_move"]["homing_origin"]
    assert origin == pytest.approx([0.0, 0.0, 0.0, 0.0])


async def test_velocity_limits_pressure_advance_and_fan(live: RunningServer) -> None:
    ws = await live.websocket()
    vp = virtual_of(live)
    mark = len(vp.executed)
    for script in (fs.FLUIDD_VELOCITY.format(value=250), fs.FLUIDD_ACCEL.format(value=2000),
                   fs.FLUIDD_SCV.format(value=5),
                   fs.MAINSAIL_PRESSURE_ADVANCE.format(extruder="extruder",
                                                       name="ADVANCE", value=0.05)):
        await ws.call("printer.gcode.script", {"script": script})
    assert sent_since(live, mark) == ["M203 X250 Y250", "M204 P2000 T2000", "M205 J0.0052",
                                      "M900 K0.05"]
    assert vp.firmware.tuning.advance_k == 0.05
    await ws.call("printer.gcode.script", {"script": fs.FLUIDD_CRUISE_RATIO.format(value=0.3)})
    state = await status(ws, toolhead=None, extruder=["pressure_advance"])
    toolhead = state["toolhead"]
    assert toolhead["max_velocity"] == 250.0 and toolhead["max_accel"] == 2000.0
    assert toolhead["square_corner_velocity"] == pytest.approx(5.0, abs=0.05)
    assert toolhead["minimum_cruise_ratio"] == 0.3
    assert state["extruder"]["pressure_advance"] == 0.05
