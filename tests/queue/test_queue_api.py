"""Both APIs against the real server: one queue, Moonraker's shapes and frames, bad input."""

from __future__ import annotations

import urllib.parse
from pathlib import Path
from typing import Any

import msgspec

from tests.harness import RpcError
from tests.queue.conftest import make_gcodes, served

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def form(**fields: Any) -> str:
    return urllib.parse.urlencode(fields)


async def test_both_apis_see_the_same_queue(tmp_path: Path) -> None:
    make_gcodes(tmp_path, "a.gcode", "b.gcode", "sub/c.gcode")
    async with served(tmp_path) as srv:
        ws = await srv.websocket()
        info = await ws.call("server.info")
        assert "job_queue" in info["components"]
        status = await ws.call("server.job_queue.status")
        assert status == {"queued_jobs": [], "queue_state": "paused"}

        posted = await srv.http.post("/server/job_queue/job",
                                     json={"filenames": ["a.gcode", "b.gcode"]})
        assert posted.status == 200
        queued = posted.json()["result"]["queued_jobs"]
        assert [j["filename"] for j in queued] == ["a.gcode", "b.gcode"]
        assert set(queued[0]) == {"filename", "job_id", "time_added", "time_in_queue"}
        note = await ws.wait_notification("notify_job_queue_changed")
        assert note["params"][0]["action"] == "jobs_added"
        assert set(note["params"][0]) == {"action", "updated_queue", "queue_state"}
        assert note["params"][0]["updated_queue"] == [
            {**q, "time_in_queue": note["params"][0]["updated_queue"][i]["time_in_queue"]}
            for i, q in enumerate(queued)]

        # Continuous Print: a form post, as the plugin's clients send it; bare JSON back
        added = await srv.http.post(
            "/plugin/continuousprint/set/add",
            body=form(path="sub/c.gcode", sd="false", count="3", jobName="Three",
                      jobDraft="false"),
            headers=FORM)
        assert added.status == 200, added.body
        body = added.json()
        assert set(body) == {"job_id", "set_"}
        assert {k: body["set_"][k] for k in ("path", "count", "remaining", "materials",
                                              "profiles", "sd")} == {
            "path": "sub/c.gcode", "count": 3, "remaining": 3, "materials": [],
            "profiles": [], "sd": False}

        state = (await srv.http.get("/plugin/continuousprint/state/get")).json()
        assert set(state) >= {"active", "status", "statusType", "profile", "queues"}
        assert state["active"] is False
        (queue,) = state["queues"]
        assert queue["name"] == "local" and queue["strategy"] == "IN_ORDER"
        jobs = queue["jobs"]
        assert [(j["name"], j["count"], j["remaining"], j["draft"], j["acquired"])
                for j in jobs] == [("a.gcode", 1, 1, False, False),
                                   ("b.gcode", 1, 1, False, False),
                                   ("Three", 1, 1, False, False)]
        assert all(isinstance(j["created"], int) and isinstance(j["id"], int) for j in jobs)
        assert [[(s["path"], s["count"], s["remaining"]) for s in j["sets"]] for j in jobs] == [
            [("a.gcode", 1, 1)], [("b.gcode", 1, 1)], [("sub/c.gcode", 3, 3)]]

        # ... and Moonraker lists the Continuous Print set too, and can reorder it
        status = await ws.call("server.job_queue.status")
        names = [j["filename"] for j in status["queued_jobs"]]
        assert names == ["a.gcode", "b.gcode", "sub/c.gcode"]
        c_id = status["queued_jobs"][2]["job_id"]
        jumped = await ws.call("server.job_queue.jump", {"job_id": c_id})
        assert jumped["queued_jobs"][0]["filename"] == "sub/c.gcode"
        cp = await ws.call("continuousprint.state.get")
        assert cp["queues"][0]["jobs"][0]["name"] == "Three"

        # deleting through Moonraker removes it from Continuous Print's view
        deleted = await srv.http.delete(f"/server/job_queue/job?job_ids={c_id}")
        assert [j["filename"] for j in deleted.json()["result"]["queued_jobs"]] == [
            "a.gcode", "b.gcode"]
        cp = await ws.call("continuousprint.state.get")
        assert [j["name"] for j in cp["queues"][0]["jobs"]] == ["a.gcode", "b.gcode"]
        note = await ws.wait_notification(
            "notify_job_queue_changed", lambda n: n["params"][0]["action"] == "jobs_removed")
        assert len(note["params"][0]["updated_queue"]) == 2


async def test_delete_all_and_pause_start_frames(tmp_path: Path) -> None:
    make_gcodes(tmp_path, "a.gcode")
    async with served(tmp_path) as srv:
        ws = await srv.websocket()
        await ws.call("server.job_queue.post_job", {"filenames": "a.gcode,a.gcode"})
        res = await ws.call("server.job_queue.delete_job", {"all": True})
        assert res == {"queued_jobs": [], "queue_state": "paused"}
        removed = await ws.wait_notification(
            "notify_job_queue_changed", lambda n: n["params"][0]["action"] == "jobs_removed")
        assert removed["params"] == [
            {"action": "jobs_removed", "updated_queue": [], "queue_state": "paused"}]
        # start with nothing to print: the queue is active (ready) but does nothing
        started = (await srv.http.post("/server/job_queue/start")).json()["result"]
        assert started["queue_state"] in ("ready", "paused")
        paused = (await srv.http.post("/server/job_queue/pause")).json()["result"]
        assert paused == {"queued_jobs": [], "queue_state": "paused"}


async def test_bad_input_is_refused_with_a_message(tmp_path: Path) -> None:
    make_gcodes(tmp_path, "a.gcode")
    async with served(tmp_path) as srv:
        ws = await srv.websocket()
        reply = await srv.http.post("/server/job_queue/job",
                                    json={"filenames": ["a.gcode", "nope.gcode"]})
        assert reply.status == 400
        assert reply.json()["error"]["message"] == "G-Code File nope.gcode does not exist"
        # nothing was queued: all files are checked first
        assert (await ws.call("server.job_queue.status"))["queued_jobs"] == []
        try:
            await ws.call("server.job_queue.jump", {"job_id": "00000000DEADBEEF"})
        except RpcError as exc:
            assert exc.code == 400 and exc.message == "Invalid job id: 00000000DEADBEEF"
        else:
            raise AssertionError("jump to an unknown id succeeded")

        for fields, message in [
            ({"path": "missing.gcode", "count": "1"}, "missing.gcode does not exist"),
            ({"path": "a.gcode", "count": "0"}, "positive integer"),
            ({"path": "a.gcode", "count": "-2"}, "positive integer"),
            ({"path": "a.gcode", "count": "many"}, "count"),
            ({"path": "a.gcode"}, "count"),
            ({"count": "1"}, "path"),
            ({"path": "a.gcode", "count": "1", "job": "77"}, "Unknown job id: 77"),
        ]:
            reply = await srv.http.post("/plugin/continuousprint/set/add",
                                        body=form(**fields), headers=FORM)
            assert reply.status == 400, fields
            assert message in reply.json()["error"]["message"], (fields, reply.body)
        try:
            await ws.call("continuousprint.set.add", {"path": "a.gcode", "count": 1.5})
        except RpcError as exc:
            assert exc.code == -32602 and "count" in exc.message
        else:
            raise AssertionError("a fractional count was accepted")
        state = await ws.call("continuousprint.state.get")
        assert state["queues"][0]["jobs"] == []


async def test_set_active_external_and_json_field(tmp_path: Path) -> None:
    make_gcodes(tmp_path, "a.gcode")
    async with served(tmp_path) as srv:
        ws = await srv.websocket()
        ok = await srv.http.post("/plugin/continuousprint/automation/external",
                                 json={"a": 1, "b": "hello"})
        assert ok.status == 200 and msgspec.json.decode(ok.body) == "OK"
        queue = srv.server.components["queue"]
        assert queue.state.external == {"a": 1, "b": "hello"}  # type: ignore[attr-defined]
        assert await ws.call("continuousprint.automation.external", {"c": [1]}) == "OK"
        assert queue.state.external == {"c": [1]}  # type: ignore[attr-defined]

        packed = msgspec.json.encode({"path": "a.gcode", "count": 2, "jobDraft": False,
                                      "materials": ["PLA"]}).decode()
        added = await srv.http.post("/plugin/continuousprint/set/add",
                                    body=form(json=packed), headers=FORM)
        assert added.status == 200, added.body
        assert added.json()["set_"]["materials"] == ["PLA"]

        on = await srv.http.post("/plugin/continuousprint/set_active",
                                 body=form(active="false"), headers=FORM)
        assert on.status == 200 and on.json()["active"] is False
        assert on.json()["statusType"] in ("NORMAL", "NEEDS_ACTION")
        wrong = await srv.http.get("/plugin/continuousprint/set_active")
        assert wrong.status == 405


async def test_deleted_file_marks_the_set_failed_and_says_why(tmp_path: Path) -> None:
    make_gcodes(tmp_path, "a.gcode", "b.gcode")
    async with served(tmp_path) as srv:
        ws = await srv.websocket()
        await ws.call("server.job_queue.post_job", {"filenames": ["a.gcode", "b.gcode"]})
        deleted = await srv.http.delete("/server/files/gcodes/a.gcode")
        assert deleted.status == 200
        line = await ws.wait_notification(
            "notify_gcode_response", lambda n: "a.gcode" in n["params"][0])
        assert line["params"][0].startswith("// Queue: a.gcode was deleted")
        status = await ws.call("server.job_queue.status")
        assert [j["filename"] for j in status["queued_jobs"]] == ["b.gcode"]
        cp = await ws.call("continuousprint.state.get")
        failed = cp["queues"][0]["jobs"][0]["sets"][0]
        assert failed["failed"] == "a.gcode was deleted" and failed["missing_file"] is True
