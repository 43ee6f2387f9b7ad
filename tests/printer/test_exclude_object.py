"""Klipper's exclude_object on a host print: an excluded object's moves never reach the
firmware, and the next object starts from where it should."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.harness import RunningServer
from tests.printer import frontend_scripts as fs
from tests.printer.conftest import printer_of, virtual_of, wait_until, write_gcode

SQUARE = [(10, 10), (30, 10), (30, 30), (10, 30), (10, 10)]


def object_lines(name: str, dx: float, e: list[float], z: float) -> list[str]:
    """One object's block on one layer, absolute E: a square outline."""
    lines = [f"EXCLUDE_OBJECT_START NAME={name}", f"G0 X{10 + dx} Y10 F6000",
             f"G1 Z{z:.2f} F600"]
    for x, y in SQUARE[1:]:
        e[0] += 0.5
        lines.append(f"G1 X{x + dx} Y{y} E{e[0]:.4f} F1800")
    e[0] -= 0.8
    lines.append(f"G1 E{e[0]:.4f} F2100 ; retract")
    e[0] += 0.8
    lines.append(f"G1 E{e[0]:.4f} F2100 ; unretract")
    lines.append(f"EXCLUDE_OBJECT_END NAME={name}")
    return lines


def two_objects(layers: int) -> list[str]:
    polygon = json.dumps([[10, 10], [30, 10], [30, 30], [10, 30]]).replace(" ", "")
    lines = ["M302 P1", "G28", "G90", "M82", "G92 E0",
             f"EXCLUDE_OBJECT_DEFINE NAME=part_a CENTER=20,20 POLYGON={polygon}",
             "EXCLUDE_OBJECT_DEFINE NAME=part_b CENTER=60,20", f";LAYER_COUNT:{layers}",
             # a dwell and more lines than the link keeps in flight: the objects' lines
             # are still in the file when a test excludes one
             "G4 P20000", *["M400"] * 24]
    e = [0.0]
    for layer in range(layers):
        z = 0.2 * (layer + 1)
        lines.append(f";LAYER:{layer}")
        lines += object_lines("part_a", 0, e, z)
        lines += object_lines("part_b", 40, e, z)
    return [*lines, "M107"]


async def run_to_end(live: RunningServer, ws: Any) -> None:
    await ws.wait_notification(
        "notify_status_update",
        lambda n: n["params"][0].get("print_stats", {}).get("state") in ("complete", "error"),
        timeout=60)


@pytest.mark.parametrize("name", ["part_b", fs.encode_gcode_param_value("part_b")])
async def test_an_excluded_objects_moves_never_reach_the_firmware(
    live: RunningServer, name: str
) -> None:
    ws = await live.websocket()
    vp = virtual_of(live)
    lines = two_objects(layers=3)
    write_gcode(live, "two.gcode", lines)
    await ws.call("printer.objects.subscribe", {"objects": {"print_stats": ["state"],
                                                            "exclude_object": None}})
    mark = len(vp.executed)
    await ws.call("printer.print.start", {"filename": "two.gcode"})
    await ws.call("printer.gcode.script", {"script": fs.MAINSAIL_EXCLUDE.format(name=name)})
    await run_to_end(live, ws)
    executed = vp.executed[mark:]
    # no X of part_b (x ≥ 50) was ever sent; part_a's three squares all were
    assert not [c for c in executed if c.startswith(("G0 X5", "G1 X5", "G1 X7", "G0 X7"))]
    assert sum(1 for c in executed if c.startswith("G1 X30 Y30")) == 3
    status = printer_of(live).query_status({"exclude_object": None, "print_stats": ["state"]})
    assert status["print_stats"]["state"] == "complete"
    obj = status["exclude_object"]
    assert obj["excluded_objects"] == ["PART_B"]
    assert [o["name"] for o in obj["objects"]] == ["PART_A", "PART_B"]
    assert obj["objects"][0]["center"] == [20.0, 20.0]
    assert obj["objects"][0]["polygon"] == [[10.0, 10.0], [30.0, 10.0], [30.0, 30.0],
                                            [10.0, 30.0]]
    # absolute E: the firmware's E was set to the file's after each skipped block, so
    # the next object's first extrusion is as long as in the file (no blob)
    assert any(c.startswith("G92 E") for c in executed)
    last_e = [line for line in lines if line.startswith("G1") and " E" in line][-1]
    assert vp.firmware.pos[3] == pytest.approx(float(last_e.split(" E")[1].split()[0]))


async def test_exclude_current_and_list_and_reset(live: RunningServer) -> None:
    ws = await live.websocket()
    printer = printer_of(live)
    start = len(ws.notifications)
    await ws.call("printer.gcode.script", {"script": "EXCLUDE_OBJECT_DEFINE NAME=a\n"
                                           "EXCLUDE_OBJECT_DEFINE NAME=b\n"
                                           "EXCLUDE_OBJECT_START NAME=a\n"
                                           "EXCLUDE_OBJECT CURRENT=1\nEXCLUDE_OBJECT\n"
                                           "EXCLUDE_OBJECT_DEFINE"})
    await ws.wait_notification("notify_gcode_response",
                               lambda n: n["params"][0] == "// Excluded objects: A", start=start)
    await ws.wait_notification("notify_gcode_response",
                               lambda n: n["params"][0] == "// Known objects: A B", start=start)
    await ws.call("printer.gcode.script", {"script": "EXCLUDE_OBJECT_END\n"
                                           "EXCLUDE_OBJECT RESET=1"})
    state = printer.query_status({"exclude_object": None})["exclude_object"]
    assert state["excluded_objects"] == [] and state["current_object"] is None
    no_current = await ws.request("printer.gcode.script", {"script": "EXCLUDE_OBJECT CURRENT=1"})
    assert no_current["error"]["message"] == "There is no current object to cancel"


async def test_a_new_print_starts_with_no_objects_excluded(live: RunningServer) -> None:
    ws = await live.websocket()
    printer = printer_of(live)
    await ws.call("printer.gcode.script", {"script": "EXCLUDE_OBJECT NAME=old"})
    write_gcode(live, "one.gcode", ["G28", "M107"])
    await ws.call("printer.print.start", {"filename": "one.gcode"})
    await wait_until(lambda: printer.query_status({"print_stats": ["state"]})[
        "print_stats"]["state"] == "complete", what="complete")
    assert printer.query_status({"exclude_object": ["excluded_objects"]})[
        "exclude_object"]["excluded_objects"] == []
