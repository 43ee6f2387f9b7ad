"""server.history.*: prints recorded from the printer's job events, over real HTTP and
websockets, with real files and metadata."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from components.history.api import HistoryChanged
from components.printer.api import JobFinished, JobStarted
from tests.harness import RpcError, RunningServer, ServerProcess, running_server

from .conftest import CONFIG, finish_job, history_notes, start_job, stats, upload, wait_for

LISTED_ORDER = [
    "job_id", "user", "filename", "status", "start_time", "end_time", "print_duration",
    "total_duration", "filament_used", "metadata", "auxiliary_data", "exists",
]
NOTIFIED_ORDER = [
    "end_time", "filament_used", "filename", "metadata", "print_duration", "status",
    "start_time", "total_duration", "auxiliary_data", "user", "exists", "job_id",
]


async def test_completed_print_is_recorded(srv: RunningServer) -> None:
    await upload(srv, "cube.gcode")
    ws = await srv.websocket()
    bus: list[HistoryChanged] = []
    srv.server.events.subscribe(HistoryChanged, bus.append)

    added = await start_job(srv, ws, "cube.gcode")
    assert list(added) == NOTIFIED_ORDER
    assert added["job_id"] == "000001" and added["status"] == "in_progress"
    assert added["end_time"] is None and added["exists"] is True
    assert added["user"] == "No User" and added["auxiliary_data"] == []
    assert added["metadata"]["slicer"] == "PrusaSlicer"
    assert "job_id" not in added["metadata"] and "print_start_time" not in added["metadata"]

    # the row exists (committed) while the print runs
    running = (await srv.http.get("/server/history/list")).json()["result"]
    assert running["count"] == 1 and running["jobs"][0]["status"] == "in_progress"

    done = await finish_job(srv, ws, "cube.gcode", "completed", stats(100.0, 110.5, 1234.5))
    assert list(done) == NOTIFIED_ORDER
    assert done["status"] == "completed" and done["job_id"] == "000001"
    assert done["end_time"] >= done["start_time"] == added["start_time"]

    reply = await srv.http.get("/server/history/list?limit=1&order=desc")
    assert reply.status == 200
    result = reply.json()["result"]
    assert result["count"] == 1
    job = result["jobs"][0]
    assert list(job) == LISTED_ORDER
    assert (job["print_duration"], job["total_duration"], job["filament_used"]) == (
        100.0, 110.5, 1234.5)
    assert job["status"] == "completed" and job["exists"] is True
    assert job["metadata"]["filament_total"] == added["metadata"]["filament_total"]

    totals = await ws.call("server.history.totals")
    assert totals == {
        "job_totals": {
            "total_jobs": 1, "total_time": 110.5, "total_print_time": 100.0,
            "total_filament_used": 1234.5, "longest_job": 110.5, "longest_print": 100.0,
        },
        "auxiliary_totals": [],
    }
    assert [b.action for b in bus] == ["added", "finished"]
    assert bus[1].job == done


async def test_cancel_error_and_shutdown_statuses(srv: RunningServer) -> None:
    await upload(srv, "a.gcode")
    ws = await srv.websocket()
    for status in ("cancelled", "error", "klippy_shutdown"):
        await start_job(srv, ws, "a.gcode")
        done = await finish_job(srv, ws, "a.gcode", status, stats(5.0, 6.25, 16.5))
        assert done["status"] == status
    result = await ws.call("server.history.list", {"order": "asc"})
    assert [j["status"] for j in result["jobs"]] == ["cancelled", "error", "klippy_shutdown"]
    assert [j["job_id"] for j in result["jobs"]] == ["000001", "000002", "000003"]
    totals = (await ws.call("server.history.totals"))["job_totals"]
    assert totals["total_jobs"] == 3 and totals["total_filament_used"] == 49.5


async def test_new_start_without_an_end_cancels_the_last_job(srv: RunningServer) -> None:
    await upload(srv, "a.gcode")
    ws = await srv.websocket()
    await start_job(srv, ws, "a.gcode")
    srv.server.events.emit(JobStarted("a.gcode"))
    await wait_for(lambda: len(history_notes(ws, "added")) == 2)
    assert history_notes(ws, "finished")[0]["job"]["status"] == "cancelled"
    # durations unknown from the printer: total is the time elapsed
    job = history_notes(ws, "finished")[0]["job"]
    assert job["total_duration"] == pytest.approx(job["end_time"] - job["start_time"])


async def test_finish_without_a_job_is_ignored(srv: RunningServer) -> None:
    srv.server.events.emit(JobFinished("ghost.gcode", "completed", **stats(1, 1, 1)))
    ws = await srv.websocket()
    # an event after it is handled, so the first one was (handlers run in order)
    await upload(srv, "a.gcode")
    await start_job(srv, ws, "a.gcode")
    assert (await ws.call("server.history.list"))["count"] == 1


async def test_job_of_a_missing_or_sd_file(srv: RunningServer) -> None:
    ws = await srv.websocket()
    added = await start_job(srv, ws, "sd:CUBE.GCO")
    assert added["metadata"] == {} and added["exists"] is False
    await finish_job(srv, ws, "sd:CUBE.GCO", "completed", stats(3, 3, 0))
    added = await start_job(srv, ws, "nowhere.gcode")
    assert added["metadata"] == {} and added["exists"] is False


async def test_exists_follows_the_file(srv: RunningServer) -> None:
    await upload(srv, "kept.gcode")
    await upload(srv, "gone.gcode")
    await upload(srv, "changed.gcode")
    ws = await srv.websocket()
    for name in ("kept.gcode", "gone.gcode", "changed.gcode"):
        await start_job(srv, ws, name)
        await finish_job(srv, ws, name, "completed", stats(1, 1, 1))
    await ws.call("server.files.delete_file", {"path": "gcodes/gone.gcode"})
    await upload(srv, "changed.gcode", "cura.gcode")
    jobs = (await ws.call("server.history.list"))["jobs"]
    assert {j["filename"]: j["exists"] for j in jobs} == {
        "kept.gcode": True, "gone.gcode": False, "changed.gcode": False}


async def test_list_paging_and_filters(srv: RunningServer) -> None:
    await upload(srv, "p.gcode")
    ws = await srv.websocket()
    jobs = []
    for _ in range(5):
        await start_job(srv, ws, "p.gcode")
        jobs.append(await finish_job(srv, ws, "p.gcode", "completed", stats(1, 2, 3)))

    async def ids(**params: Any) -> list[str]:
        result = await ws.call("server.history.list", params)
        assert result["count"] == len(result["jobs"])
        return [j["job_id"] for j in result["jobs"]]

    assert await ids() == ["000005", "000004", "000003", "000002", "000001"]
    assert await ids(limit=2) == ["000005", "000004"]
    assert await ids(limit=2, start=2) == ["000003", "000002"]
    assert await ids(limit=2, start=4) == ["000001"]
    assert await ids(limit=2, start=5) == []
    assert await ids(order="asc", limit=3) == ["000001", "000002", "000003"]
    assert await ids(order="ASC", start=3, limit=0) == ["000004", "000005"]
    assert await ids(since=jobs[2]["start_time"]) == ["000005", "000004"]
    assert await ids(before=jobs[1]["end_time"]) == ["000001"]
    assert await ids(since=jobs[0]["start_time"], before=jobs[3]["end_time"]) == [
        "000003", "000002"]
    # Moonraker's "not given"
    assert len(await ids(since=-1, before=-1)) == 5
    # over HTTP, query strings are strings
    reply = await srv.http.get(
        f"/server/history/list?limit=2&start=1&order=asc&since={jobs[0]['start_time']}")
    assert [j["job_id"] for j in reply.json()["result"]["jobs"]] == ["000003", "000004"]
    bad = await srv.http.get("/server/history/list?order=sideways")
    assert bad.status == 400
    assert bad.json()["error"]["message"] == "Invalid `order` value: SIDEWAYS"


async def test_get_and_delete_jobs(srv: RunningServer) -> None:
    await upload(srv, "d.gcode")
    ws = await srv.websocket()
    for _ in range(3):
        await start_job(srv, ws, "d.gcode")
        await finish_job(srv, ws, "d.gcode", "completed", stats(1, 1, 1))
    bus: list[HistoryChanged] = []
    srv.server.events.subscribe(HistoryChanged, bus.append)

    job = (await srv.http.get("/server/history/job?uid=000002")).json()["result"]["job"]
    assert job["job_id"] == "000002" and list(job) == LISTED_ORDER
    assert (await ws.call("server.history.get_job", {"uid": "000002"}))["job"] == job
    missing = await srv.http.get("/server/history/job?uid=0000FF")
    assert missing.status == 404
    assert missing.json()["error"]["message"] == "Invalid job uid: 0000FF"
    with pytest.raises(RpcError) as err:
        await ws.call("server.history.get_job", {"uid": "not-hex"})
    assert (err.value.code, err.value.message) == (-32601, "Invalid job uid: not-hex")
    with pytest.raises(RpcError) as err:
        await ws.call("server.history.get_job")
    assert (err.value.code, err.value.message) == (-32602, "No data for argument: uid")

    reply = await srv.http.delete("/server/history/job?uid=000002")
    assert reply.json()["result"] == {"deleted_jobs": ["000002"]}
    assert (await srv.http.delete("/server/history/job?uid=000002")).status == 404
    rest = await ws.call("server.history.delete_job", {"all": True})
    assert rest == {"deleted_jobs": ["000001", "000003"]}
    assert (await ws.call("server.history.list")) == {"count": 0, "jobs": []}
    assert bus == [
        HistoryChanged("deleted", deleted_jobs=("000002",)),
        HistoryChanged("deleted", deleted_jobs=("000001", "000003")),
    ]
    # deleting jobs leaves the totals; numbers are never reused
    assert (await ws.call("server.history.totals"))["job_totals"]["total_jobs"] == 3
    assert (await start_job(srv, ws, "d.gcode"))["job_id"] == "000004"


async def test_totals_and_reset(srv: RunningServer) -> None:
    await upload(srv, "t.gcode")
    ws = await srv.websocket()
    await start_job(srv, ws, "t.gcode")
    await finish_job(srv, ws, "t.gcode", "completed", stats(10.0, 12.0, 100.0))
    await start_job(srv, ws, "t.gcode")
    with pytest.raises(RpcError) as err:
        await ws.call("server.history.reset_totals")
    assert (err.value.code, err.value.message) == (400, "Job in progress, cannot reset totals")
    await finish_job(srv, ws, "t.gcode", "cancelled", stats(20.0, 21.0, 50.0))
    expected = {
        "total_jobs": 2, "total_time": 33.0, "total_print_time": 30.0,
        "total_filament_used": 150.0, "longest_job": 21.0, "longest_print": 20.0,
    }
    assert (await ws.call("server.history.totals"))["job_totals"] == expected
    reply = await srv.http.post("/server/history/reset_totals")
    assert reply.json()["result"] == {"last_totals": expected, "last_auxiliary_totals": []}
    zero = (await srv.http.get("/server/history/totals")).json()["result"]["job_totals"]
    assert zero == {"total_jobs": 0, "total_time": 0.0, "total_print_time": 0.0,
                    "total_filament_used": 0.0, "longest_job": 0.0, "longest_print": 0.0}
    # the list is untouched
    assert (await ws.call("server.history.list"))["count"] == 2


async def test_history_and_totals_survive_a_restart(tmp_path: Path) -> None:
    async with running_server(tmp_path, CONFIG) as srv:
        await upload(srv, "r.gcode")
        ws = await srv.websocket()
        await start_job(srv, ws, "r.gcode")
        await finish_job(srv, ws, "r.gcode", "completed", stats(7.0, 8.0, 9.0))
        await start_job(srv, ws, "r.gcode")
        # a clean stop during a print: recorded as Moonraker does
    async with running_server(tmp_path, CONFIG) as srv:
        ws = await srv.websocket()
        jobs = (await ws.call("server.history.list", {"order": "asc"}))["jobs"]
        assert [j["status"] for j in jobs] == ["completed", "server_exit"]
        assert jobs[1]["end_time"] is not None
        totals = (await ws.call("server.history.totals"))["job_totals"]
        assert totals["total_jobs"] == 2 and totals["total_filament_used"] == 9.0


def _crash_image(data_dir: Path, target: Path) -> None:
    """The database files as a crash would leave them: whatever reached the disk."""
    source = data_dir / "database"
    (target / "database").mkdir(parents=True)
    for path in source.iterdir():
        shutil.copyfile(path, target / "database" / path.name)
    shutil.copytree(data_dir / "gcodes", target / "gcodes")


async def test_print_running_at_a_crash_is_interrupted(tmp_path: Path) -> None:
    first, crashed = tmp_path / "first", tmp_path / "crashed"
    async with running_server(first, CONFIG) as srv:
        await upload(srv, "c.gcode")
        ws = await srv.websocket()
        await start_job(srv, ws, "c.gcode")
        await finish_job(srv, ws, "c.gcode", "completed", stats(1.0, 2.0, 3.0))
        added = await start_job(srv, ws, "c.gcode")
        # the row was committed before the notification: a crash now keeps it
        _crash_image(first, crashed)
    proc = ServerProcess(crashed, CONFIG)
    proc.start()
    try:
        srv_http = RunningServerLike(proc.base)
        listed = await srv_http.get("/server/history/list?order=asc")
        jobs = listed["jobs"]
        assert [(j["job_id"], j["status"]) for j in jobs] == [
            ("000001", "completed"), ("000002", "interrupted")]
        assert jobs[1]["start_time"] == added["start_time"] and jobs[1]["end_time"] is None
        assert jobs[1]["metadata"]["slicer"] == "PrusaSlicer"
        assert "jobs interrupted by an abrupt stop: 000002" in proc.output
        # kill -9 and start again: nothing changes, totals count only finished jobs
        proc.kill()
        proc.start()
        srv_http = RunningServerLike(proc.base)
        again = await srv_http.get("/server/history/list?order=asc")
        assert [j["status"] for j in again["jobs"]] == ["completed", "interrupted"]
        totals = await srv_http.get("/server/history/totals")
        assert totals["job_totals"]["total_jobs"] == 1
    finally:
        proc.kill()


class RunningServerLike:
    """Plain HTTP against a ServerProcess."""

    def __init__(self, base: str) -> None:
        self.base = base

    async def get(self, path: str) -> Any:
        from tests.harness import Http

        http = Http(self.base)
        try:
            reply = await http.get(path)
        finally:
            http.close()
        assert reply.status == 200, reply.body
        return reply.json()["result"]
