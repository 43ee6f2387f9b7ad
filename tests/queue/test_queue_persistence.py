"""The queue survives restarts: a clean stop, and kill -9 right after acknowledgements."""

from __future__ import annotations

import urllib.parse
from pathlib import Path
from typing import Any

import msgspec
import tornado.httpclient

from tests.harness import ServerProcess
from tests.queue.conftest import make_gcodes


def fetch(proc: ServerProcess, path: str, method: str = "GET", *, json: Any = None,
          form: dict[str, str] | None = None) -> tuple[int, Any]:
    client = tornado.httpclient.HTTPClient()
    try:
        body: bytes | str | None = None
        headers = {}
        if json is not None:
            body, headers = msgspec.json.encode(json), {"Content-Type": "application/json"}
        elif form is not None:
            body = urllib.parse.urlencode(form)
            headers = {"Content-Type": "application/x-www-form-urlencoded"}
        elif method == "POST":
            body = b""
        resp = client.fetch(proc.base + path, method=method, body=body, headers=headers,
                            raise_error=False, allow_nonstandard_methods=True)
        return resp.code, msgspec.json.decode(resp.body)
    finally:
        client.close()


def snapshot(proc: ServerProcess) -> tuple[list[str], list[tuple[str, int, int, int]], Any]:
    code, status = fetch(proc, "/server/job_queue/status")
    assert code == 200
    code, cp = fetch(proc, "/plugin/continuousprint/state/get")
    assert code == 200
    names = [j["filename"] for j in status["result"]["queued_jobs"]]
    sets = [(s["path"], s["count"], s["remaining"], s["id"])
            for j in cp["queues"][0]["jobs"] for s in j["sets"]]
    return names, sets, status["result"]["queue_state"]


def test_queue_and_counts_survive_clean_restart_and_kill_9(tmp_path: Path) -> None:
    make_gcodes(tmp_path, "a.gcode", "b.gcode", "parts/c.gcode", "d.gcode")
    proc = ServerProcess(tmp_path)
    proc.start()
    try:
        assert fetch(proc, "/server/job_queue/job", "POST",
                     json={"filenames": ["a.gcode", "b.gcode"]})[0] == 200
        code, added = fetch(proc, "/plugin/continuousprint/set/add", "POST",
                            form={"path": "parts/c.gcode", "count": "5", "sd": "false",
                                  "jobName": "Parts", "jobDraft": "false"})
        assert code == 200, added
        code, more = fetch(proc, "/plugin/continuousprint/set/add", "POST",
                           form={"path": "d.gcode", "count": "2",
                                 "job": str(added["job_id"])})
        assert code == 200, more
        assert fetch(proc, "/plugin/continuousprint/automation/external", "POST",
                     json={"bed": {"temp": 60}}) == (200, "OK")
        before = snapshot(proc)
        assert before[0] == ["a.gcode", "b.gcode", "parts/c.gcode", "d.gcode"]
    finally:
        proc.kill()  # SIGKILL straight after the last acknowledgement

    proc = ServerProcess(tmp_path)
    proc.start()
    try:
        assert snapshot(proc) == before
        # reorder and delete, then a clean stop
        c_id = f"{before[1][2][3]:016X}"
        a_id = f"{before[1][0][3]:016X}"
        assert fetch(proc, "/server/job_queue/jump", "POST", json={"job_id": c_id})[0] == 200
        assert fetch(proc, f"/server/job_queue/job?job_ids={a_id}", "DELETE")[0] == 200
        after = snapshot(proc)
        assert after[0] == ["parts/c.gcode", "d.gcode", "b.gcode"]
        assert proc.terminate() == 0
    finally:
        proc.kill()

    proc = ServerProcess(tmp_path)
    proc.start()
    try:
        names, sets, queue_state = snapshot(proc)
        assert (names, sets) == after[:2]
        assert queue_state == "paused"  # a restarted queue never starts by itself
        assert [(p, c, r) for p, c, r, _ in sets if p == "parts/c.gcode"] == [
            ("parts/c.gcode", 5, 5)]
        # ids keep growing after a restart: no reuse of a deleted id
        code, new = fetch(proc, "/plugin/continuousprint/set/add", "POST",
                          form={"path": "a.gcode", "count": "1"})
        assert code == 200 and new["set_"]["id"] > max(s[3] for s in before[1])
    finally:
        proc.kill()
