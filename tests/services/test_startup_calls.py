"""What Mainsail and Fluidd call at start-up answers in Moonraker's shapes; a print on the
virtual printer ends up in the history with the printer's own numbers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.harness import DEFAULT_CONFIG, RunningServer, running_server

from .conftest import history_notes, wait_for

STARTUP: list[tuple[str, dict[str, Any]]] = [
    ("server.webcams.list", {}),
    ("server.history.list", {"start": 0, "limit": 50, "max": 100}),
    ("server.history.totals", {}),
    ("server.announcements.list", {}),
    ("machine.sudo.info", {}),
    ("machine.peripherals.serial", {}),
    ("machine.peripherals.usb", {}),
    ("machine.peripherals.video", {}),
]


async def test_startup_calls_answer(srv: RunningServer) -> None:
    ws = await srv.websocket()
    components = (await ws.call("server.info"))["components"]
    assert {"history", "webcam", "announcements", "machine"} <= set(components)
    answers = {method: await ws.call(method, params) for method, params in STARTUP}
    assert answers["server.webcams.list"] == {"webcams": []}
    assert answers["server.history.list"] == {"count": 0, "jobs": []}
    assert set(answers["server.history.totals"]) == {"job_totals", "auxiliary_totals"}
    assert answers["server.announcements.list"] == {
        "entries": [], "feeds": ["moonraker", "klipper"]}
    # components we do not have are not announced, so the frontends never call them
    for absent in ("update_manager", "power", "sensor", "spoolman", "analysis", "timelapse"):
        assert absent not in components


FAST_PRINTER = DEFAULT_CONFIG + """
[serial]
port: virtual
virtual_time_scale: 25
"""

PRINT = """; a small print
M302 P1
G28
G90
M83
G1 Z0.2 F600
G1 X20 Y10 E1.5 F1800
G1 X20 Y20 E1.5
G1 X10 Y20 E1.5
G1 X10 Y10 E1.5
"""


async def test_a_real_print_is_recorded(tmp_path: Path) -> None:
    async with running_server(tmp_path, FAST_PRINTER) as srv:
        (srv.server.data_dir / "gcodes" / "square.gcode").write_text(PRINT)
        ws = await srv.websocket()
        await wait_for(lambda: srv.server.klippy_state == "ready", 30, "printer ready")
        await ws.call("printer.print.start", {"filename": "square.gcode"})
        await wait_for(lambda: bool(history_notes(ws, "finished")), 30, "print finished")
        added = history_notes(ws, "added")[0]["job"]
        assert added["filename"] == "square.gcode" and added["status"] == "in_progress"
        assert added["metadata"]["size"] == len(PRINT)
        done = history_notes(ws, "finished")[0]["job"]
        assert done["status"] == "completed" and done["job_id"] == added["job_id"]
        assert done["filament_used"] == 6.0
        assert 0 < done["print_duration"] <= done["total_duration"]
        listed = (await ws.call("server.history.list"))["jobs"]
        assert listed[0]["job_id"] == done["job_id"] and listed[0]["status"] == "completed"


async def test_cancelled_real_print(tmp_path: Path) -> None:
    async with running_server(tmp_path, FAST_PRINTER) as srv:
        long_print = PRINT + "G4 S600\n" + "G1 X30 Y30 E1\n"
        (srv.server.data_dir / "gcodes" / "long.gcode").write_text(long_print)
        ws = await srv.websocket()
        await wait_for(lambda: srv.server.klippy_state == "ready", 30, "printer ready")
        await ws.call("printer.print.start", {"filename": "long.gcode"})
        await wait_for(lambda: bool(history_notes(ws, "added")), 30, "print started")
        await ws.call("printer.print.cancel")
        await wait_for(lambda: bool(history_notes(ws, "finished")), 30, "print finished")
        assert history_notes(ws, "finished")[0]["job"]["status"] == "cancelled"
