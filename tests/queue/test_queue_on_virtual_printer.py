"""The queue driving real prints on the virtual printer: three jobs with counts print in
order, the Moonraker and Continuous Print views agree, and a kill -9 mid-queue loses
nothing."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import msgspec
import tornado.httpclient

from components.printer.api import JobFinished
from tests.harness import ServerProcess, running_server, wait_for
from tests.printer.conftest import FAST_PRINTER, printer_of, virtual_of, wait_until

QUEUE_CONFIG = FAST_PRINTER + """
[job_queue]
automatic_transition: True
job_transition_delay: 0.05
"""


def job_file(gcodes: Path, name: str, moves: int = 15) -> None:
    lines = ["M302 P1", f"M117 {name}", "G28", "G90"]
    lines += [f"G1 X{10 + i} Y{10 + i} F6000" for i in range(moves)]
    (gcodes / name).write_text("\n".join(lines) + "\n")


async def test_three_jobs_with_counts_print_in_order(tmp_path: Path) -> None:
    async with running_server(tmp_path, QUEUE_CONFIG) as srv:
        printer = printer_of(srv)
        await wait_until(lambda: printer.state == "ready", what="ready")
        gcodes = srv.server.data_dir / "gcodes"
        for name in ("a.gcode", "b.gcode", "c.gcode"):
            job_file(gcodes, name)
        ws = await srv.websocket()
        await ws.call("server.job_queue.pause")
        counts = {"a.gcode": 2, "b.gcode": 1, "c.gcode": 2}
        for name, count in counts.items():
            reply = await srv.http.post("/plugin/continuousprint/set/add", json={
                "path": name, "sd": False, "count": count, "jobName": name,
                "jobDraft": False})
            assert reply.status == 200, reply.body
        status = await ws.call("server.job_queue.status")
        assert [j["filename"] for j in status["queued_jobs"]] == list(counts)
        finished: list[JobFinished] = []
        srv.server.events.subscribe(JobFinished, finished.append)
        await ws.call("server.job_queue.start")
        await wait_until(lambda: len(finished) == 5, timeout=120, what="five prints")
        assert [f.filename for f in finished] == ["a.gcode", "a.gcode", "b.gcode", "c.gcode",
                                            "c.gcode"]
        assert all(f.status == "completed" for f in finished)
        markers = [c for c in virtual_of(srv).executed if c.startswith("M117 ")]
        assert markers[-5:] == ["M117 a.gcode", "M117 a.gcode", "M117 b.gcode",
                                "M117 c.gcode", "M117 c.gcode"]
        # JobFinished reaches this subscriber and the queue's own handler in either order:
        # the queue counts the last run down just after, so wait for its view.
        async def nothing_remains() -> bool:
            cp = (await srv.http.get("/plugin/continuousprint/state/get")).json()
            remaining = [s["remaining"] for q in cp["queues"] for j in q["jobs"]
                         for s in j["sets"]]
            return all(r == 0 for r in remaining)

        await wait_for(nothing_remains, what="every set counted down to 0")


def _http(base: str, method: str, path: str, body: Any = None) -> Any:
    client = tornado.httpclient.HTTPClient()
    try:
        resp = client.fetch(base + path, method=method, raise_error=False,
                            body=None if body is None else msgspec.json.encode(body),
                            headers={"Content-Type": "application/json"})
        return resp.code, msgspec.json.decode(resp.body) if resp.body else None
    finally:
        client.close()


def test_kill_9_mid_queue_keeps_jobs_and_counts_and_reports_the_interrupted_run(
    tmp_path: Path,
) -> None:
    config = FAST_PRINTER + "[job_queue]\nautomatic_transition: False\n"
    proc = ServerProcess(tmp_path, config)
    (tmp_path / "gcodes").mkdir(exist_ok=True)
    for name in ("long.gcode", "next.gcode"):
        job_file(tmp_path / "gcodes", name, moves=4000 if name == "long.gcode" else 10)
    proc.start()
    try:
        deadline = time.monotonic() + 30
        while _http(proc.base, "GET", "/server/info")[1]["result"]["klippy_state"] != "ready":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        for name, count in (("long.gcode", 3), ("next.gcode", 2)):
            code, _ = _http(proc.base, "POST", "/plugin/continuousprint/set/add",
                            {"path": name, "sd": False, "count": count, "jobName": name,
                             "jobDraft": False})
            assert code == 200
        _http(proc.base, "POST", "/server/job_queue/start", {})
        while _http(proc.base, "GET", "/printer/objects/query?print_stats=state")[1][
                "result"]["status"]["print_stats"]["state"] != "printing":
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        proc.kill()
    proc = ServerProcess(tmp_path, config)
    proc.start()
    try:
        code, status = _http(proc.base, "GET", "/server/job_queue/status")
        assert code == 200
        assert status["result"]["queue_state"] == "paused"
        code, cp = _http(proc.base, "GET", "/plugin/continuousprint/state/get")
        sets = {s["path"]: s for q in cp["queues"] for j in q["jobs"] for s in j["sets"]}
        assert sets["long.gcode"]["remaining"] == 3  # the interrupted run is not counted
        assert sets["next.gcode"]["remaining"] == 2
        assert "nterrupt" in msgspec.json.encode(cp).decode()
    finally:
        proc.terminate()
