"""A mobile app (OctoPod-like): passive login, the push channel with `auth`, polling,
jog/home/temperature, pause/resume/cancel and the events that follow."""

from __future__ import annotations

from tests.octoprint.conftest import Octo, Push, job_state, long_gcode, wait_job
from tests.printer.conftest import printer_of, wait_until


async def test_app_session(octo: Octo) -> None:
    srv = octo.srv
    login = (await octo.post("/api/login", {"passive": True})).json()
    # the socket itself carries no credentials: nothing but "connected" until auth
    push = await Push.open(srv)
    try:
        connected = await push.wait_for("connected")
        assert connected["version"] and "python_version" in connected
        await push.send({"auth": f"{login['name']}:not-the-session"})
        assert (await push.wait_for("reauthRequired"))["reason"] == "stale"
        assert "current" not in push.kinds() and "history" not in push.kinds()
        await push.send({"auth": f"{login['name']}:{login['session']}"})
        history = await push.wait_for("history")
        assert history["state"]["text"] == "Operational"
        current = await push.wait_for("current")
        assert current["state"]["flags"]["operational"] is True
        assert {"job", "progress", "currentZ", "temps", "logs", "messages"} <= current.keys()
        await push.wait_for("current", lambda c: c["temps"] and "tool0" in c["temps"][0])

        # jog, home and temperature, as the app's controls send them
        mark = len(push.messages)
        assert (await octo.post("/api/printer/printhead",
                                {"command": "home", "axes": ["x", "y"]})).status == 204
        assert (await octo.post("/api/printer/printhead",
                                {"command": "jog", "x": 5, "y": 5})).status == 204
        assert (await octo.post("/api/printer/tool", {"command": "target",
                                                      "targets": {"tool0": 60}})).status == 204
        assert (await octo.post("/api/printer/bed",
                                {"command": "target", "target": 40})).status == 204
        logs = await push.wait_for("current", lambda c: any("G28 X Y" in line
                                                           for line in c["logs"]), start=mark)
        assert logs["logs"][0].startswith(("Send: ", "Recv: "))
        await push.wait_for("current", lambda c: c["temps"] and c["temps"][-1]["tool0"]["target"]
                            == 60.0)

        # print, polled and pushed
        reply = await octo.upload("app.gcode", long_gcode(), {"select": "true"})
        assert reply.json()["effectiveSelect"] is True
        assert (await job_state(octo))["job"]["file"]["name"] == "app.gcode"
        await push.wait_for("event", lambda e: e["type"] == "Upload"
                            and e["payload"]["path"] == "app.gcode")
        assert (await octo.post("/api/job", {"command": "start"})).status == 204
        started = await push.wait_for("event", lambda e: e["type"] == "PrintStarted")
        assert started["payload"]["path"] == "app.gcode"
        assert started["payload"]["origin"] == "local"
        printing = await push.wait_for("current", lambda c: c["state"]["text"] == "Printing")
        assert printing["state"]["flags"]["printing"] is True
        assert printing["job"]["file"]["name"] == "app.gcode"
        assert printing["busyFiles"] == [{"origin": "local", "path": "app.gcode"}]
        await push.wait_for("current", lambda c: (c["progress"]["completion"] or 0) > 0)
        polled = (await octo.get("/api/printer")).json()
        assert polled["state"]["text"] == "Printing"

        assert (await octo.post("/api/job", {"command": "pause",
                                             "action": "pause"})).status == 204
        await push.wait_for("event", lambda e: e["type"] == "PrintPaused")
        await push.wait_for("current", lambda c: c["state"]["flags"]["paused"])
        paused = await wait_job(octo, ("Paused",))
        position = paused["progress"]["filepos"]
        # paused: jog and extrude are allowed again (a filament change)
        assert (await octo.post("/api/printer/tool",
                                {"command": "extrude", "amount": 2})).status == 204
        assert (await octo.post("/api/job", {"command": "pause",
                                             "action": "resume"})).status == 204
        await push.wait_for("event", lambda e: e["type"] == "PrintResumed")
        await wait_until(lambda: printer_of(srv).query_status({"virtual_sdcard": None})
                         ["virtual_sdcard"]["file_position"] > position, what="progress")

        assert (await octo.post("/api/job", {"command": "cancel"})).status == 204
        cancelled = await push.wait_for("event", lambda e: e["type"] == "PrintCancelled")
        assert cancelled["payload"]["name"] == "app.gcode"
        failed = await push.wait_for("event", lambda e: e["type"] == "PrintFailed")
        assert failed["payload"]["reason"] == "cancelled"
        await push.wait_for("event", lambda e: e["type"] == "PrinterStateChanged"
                            and e["payload"]["state_id"] == "OPERATIONAL")
        assert (await job_state(octo))["state"] == "Operational"
    finally:
        await push.close()


async def test_push_with_key_header_and_sockjs_framing(octo: Octo) -> None:
    srv = octo.srv
    # authenticated by the upgrade request's key: history at once
    push = await Push.open(srv, headers={"X-Api-Key": octo.key})
    # the SockJS websocket transport (octorest's client), authenticated by message
    framed = await Push.open(srv, path="/sockjs/123/abcdefgh/websocket")
    try:
        await push.wait_for("history")
        await framed.wait_for("connected")
        await framed.send({"auth": f"someone:{octo.key}"})
        await framed.wait_for("history")
        await framed.wait_for("current")
        info = await srv.http.get("/sockjs/info")
        assert info.status == 200 and info.json()["websocket"] is True
        # a short print: started and done events reach both
        reply = await octo.upload("quick.gcode", b"G28\nG1 X5 F3000\n", {"print": "true"})
        assert reply.json()["effectivePrint"] is True
        for client in (push, framed):
            done = await client.wait_for("event", lambda e: e["type"] == "PrintDone")
            assert done["payload"]["path"] == "quick.gcode"
            await client.wait_for("event", lambda e: e["type"] == "FileAdded"
                                  and e["payload"]["path"] == "quick.gcode")
    finally:
        await push.close()
        await framed.close()
