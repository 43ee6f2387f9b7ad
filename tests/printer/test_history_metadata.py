"""A print writes its job into the file's metadata (job_id, print_start_time), which
Fluidd's file list shows as Status / Last printed / Total duration."""

from __future__ import annotations

import pytest

from tests.harness import RunningServer
from tests.printer.conftest import printer_of, square_print, wait_until, write_gcode


@pytest.mark.parametrize("http", [False, True], ids=["websocket", "http"])
async def test_the_job_shows_in_the_files_metadata(live: RunningServer, http: bool) -> None:
    ws = await live.websocket()
    write_gcode(live, "cube.gcode", square_print(layers=2, segments=8))
    before = await ws.call("server.files.metadata", {"filename": "cube.gcode"})
    assert before["job_id"] is None and before["print_start_time"] is None
    await ws.call("printer.print.start", {"filename": "cube.gcode"})
    printer = printer_of(live)
    await wait_until(lambda: printer.query_status({"print_stats": ["state"]})[
        "print_stats"]["state"] == "complete", what="complete")
    jobs = (await ws.call("server.history.list"))["jobs"]
    if http:
        reply = await live.http.get("/server/files/metadata?filename=cube.gcode")
        meta = reply.json()["result"]
        listing = (await live.http.get(
            "/server/files/directory?path=gcodes&extended=true")).json()["result"]
    else:
        meta = await ws.call("server.files.metadata", {"filename": "cube.gcode"})
        listing = await ws.call("server.files.get_directory",
                                {"path": "gcodes", "extended": True})
    assert meta["job_id"] == jobs[0]["job_id"]
    assert meta["print_start_time"] == pytest.approx(jobs[0]["start_time"])
    entry = next(f for f in listing["files"] if f["filename"] == "cube.gcode")
    assert entry["job_id"] == jobs[0]["job_id"]
