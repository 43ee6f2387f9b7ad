"""Mainsail's pause-at-layer dialog (SET_PAUSE_AT_LAYER / SET_PAUSE_NEXT_LAYER) and object
exclusion on a print from the printer's own SD card (M486)."""

from __future__ import annotations

from tests.harness import RunningServer
from tests.printer import frontend_scripts as fs
from tests.printer.conftest import printer_of, square_print, virtual_of, wait_until, write_gcode


def state(live: RunningServer) -> str:
    value: str = printer_of(live).query_status({"print_stats": ["state"]})[
        "print_stats"]["state"]
    return value


async def test_pause_at_layer_stops_before_the_layers_first_line(live: RunningServer) -> None:
    ws = await live.websocket()
    vp = virtual_of(live)
    printer = printer_of(live)
    lines = square_print(layers=4, segments=8)
    write_gcode(live, "layers.gcode", lines)
    await ws.call("printer.print.start", {"filename": "layers.gcode"})
    await ws.call("printer.gcode.script",
                  {"script": fs.MAINSAIL_PAUSE_AT_LAYER.format(layer=3, call="PAUSE")})
    macro = printer.query_status({"gcode_macro SET_PRINT_STATS_INFO": None})
    assert macro["gcode_macro SET_PRINT_STATS_INFO"]["pause_at_layer"] == {
        "enable": True, "layer": 3, "call": "PAUSE"}
    await wait_until(lambda: state(live) == "paused", what="paused at layer 3")
    await wait_until(lambda: "G1 X0.0000 Y220.0000 F6000" in vp.executed, what="parked")
    # layer 3 (";LAYER:2") starts with its Z move: not sent before the pause
    assert "G1 Z0.60 F600" not in vp.executed
    assert "G1 Z0.40 F600" in vp.executed
    macro = printer.query_status({"gcode_macro SET_PRINT_STATS_INFO": None})
    assert macro["gcode_macro SET_PRINT_STATS_INFO"]["pause_at_layer"]["enable"] is False
    await ws.call("printer.print.resume")
    await wait_until(lambda: state(live) == "complete", what="complete")
    assert "G1 Z0.60 F600" in vp.executed


async def test_next_layer_with_m600_runs_the_filament_change(live: RunningServer) -> None:
    ws = await live.websocket()
    vp = virtual_of(live)
    write_gcode(live, "next.gcode", square_print(layers=3, segments=8))
    await ws.call("printer.gcode.script",
                  {"script": fs.MAINSAIL_PAUSE_NEXT_LAYER.format(call="M600")})
    await ws.call("printer.print.start", {"filename": "next.gcode"})
    await wait_until(lambda: vp.firmware.wait_for_user, what="the filament change")
    executed = vp.executed
    # the first layer marker read after the request: M600 before the layer's first line
    assert executed[executed.index("M600") + 1:] == []
    await wait_until(lambda: state(live) == "paused", what="shown paused")
    await ws.call("printer.print.resume")
    await wait_until(lambda: state(live) == "complete", what="complete")


async def test_exclude_on_an_sd_print_uses_m486(live: RunningServer) -> None:
    vp = virtual_of(live)
    printer = printer_of(live)
    body = ["M302 P1", "G28", "M486 T2"]
    for layer in range(40):
        body += [f"G1 Z{0.2 * (layer + 1):.1f}", "M486 S0", "G1 X20 Y20 E1 F3000",
                 "G1 X30 Y20 E2", "M486 S1", "G1 X60 Y20 E3", "G1 X70 Y20 E4", "M486 S-1"]
    (vp.sd_dir / "OBJECTS.GCO").write_text("\n".join(body) + "\n")
    ws = await live.websocket()
    await ws.call("printer.gcode.script", {"script": "M23 OBJECTS.GCO\nM24"})
    assert state(live) == "printing"
    await ws.call("printer.gcode.script", {"script": "EXCLUDE_OBJECT NAME=1"})
    assert "M486 P1" in vp.executed
    assert vp.firmware.tuning.cancelled == {1}
    excluded = printer.query_status({"exclude_object": ["excluded_objects"]})
    assert excluded["exclude_object"]["excluded_objects"] == ["1"]
    unknown = await ws.request("printer.gcode.script", {"script": "EXCLUDE_OBJECT NAME=cube"})
    assert "Unknown object 'CUBE'" in unknown["error"]["message"]
    await ws.call("printer.print.cancel")
