"""/api/files: listings, file info with refs, select/unselect, copy/move, folders,
delete, downloads; timelapse, system commands and settings that persist."""

from __future__ import annotations

from tests.octoprint.conftest import Octo, gcode_bytes, job_state, wait_job
from tests.printer.conftest import printer_of


async def test_files_and_commands(octo: Octo) -> None:
    assert (await octo.upload("a.gcode", gcode_bytes(layers=1), {"path": "box"})).status == 201
    reply = await octo.post("/api/files/local", {"foldername": "empty", "path": "box"})
    assert reply.status == 201, reply.body
    assert reply.json()["folder"]["path"] == "box/empty"
    assert (await octo.post("/api/files/local", {"foldername": "empty",
                                                 "path": "box"})).status == 409
    top = (await octo.get("/api/files/local")).json()
    box = next(e for e in top["files"] if e["name"] == "box")
    assert box["type"] == "folder" and "children" not in box and top["free"] > 0
    info = (await octo.get("/api/files/local/box/a.gcode")).json()
    assert info["type"] == "machinecode" and info["typePath"] == ["machinecode", "gcode"]
    assert info["refs"]["resource"].endswith("/api/files/local/box/a.gcode")
    download = await octo.get("/" + info["refs"]["download"].split("/", 3)[3])
    assert download.status == 200 and download.body == gcode_bytes(layers=1)
    folder = (await octo.get("/api/files/local/box")).json()
    assert {c["name"] for c in folder["children"]} == {"a.gcode", "empty"}
    assert (await octo.get("/api/files/local/missing.gcode")).status == 404

    # select / unselect
    assert (await octo.post("/api/files/local/box/a.gcode", {"command": "select"})).status == 204
    assert (await job_state(octo))["job"]["file"]["path"] == "box/a.gcode"
    assert (await octo.post("/api/files/local/box/a.gcode", {"command": "unselect"})
            ).status == 204
    assert (await job_state(octo))["job"]["file"]["name"] is None
    assert (await octo.post("/api/files/local/nope.gcode", {"command": "select"})).status == 404
    assert (await octo.post("/api/files/local/box/a.gcode", {"command": "nap"})).status == 400

    # copy and move: 201 with Location; 409 when the destination exists
    reply = await octo.post("/api/files/local/box/a.gcode",
                            {"command": "copy", "destination": "b.gcode"})
    assert reply.status == 201 and reply.headers["Location"].endswith("/api/files/local/b.gcode")
    assert (await octo.post("/api/files/local/box/a.gcode",
                            {"command": "copy", "destination": "b.gcode"})).status == 409
    reply = await octo.post("/api/files/local/b.gcode",
                            {"command": "move", "destination": "box/empty"})
    assert reply.status == 201 and reply.json()["path"] == "box/empty/b.gcode"
    assert (await octo.get("/api/files/local/b.gcode")).status == 404

    # delete a file, then a folder with its content
    assert (await octo.delete("/api/files/local/box/empty/b.gcode")).status == 204
    assert (await octo.delete("/api/files/local/box/empty/b.gcode")).status == 404
    assert (await octo.delete("/api/files/local/box")).status == 204
    assert not (octo.srv.server.data_dir / "gcodes" / "box").exists()


async def test_select_and_print_then_sd_card(octo: Octo) -> None:
    srv = octo.srv
    await octo.upload("go.gcode", gcode_bytes(layers=1))
    reply = await octo.post("/api/files/local/go.gcode", {"command": "select", "print": True})
    assert reply.status == 204
    done = await wait_job(octo, ("Operational",))
    assert done["job"]["file"]["path"] == "go.gcode"
    assert done["progress"]["completion"] == 100.0
    # the SD card: a file on the virtual printer's card, listed after init
    sd_dir = printer_of(srv).link.virtual_printer.sd_dir  # type: ignore[union-attr]
    (sd_dir / "SDPART.GCO").write_text("G28\nG1 X5 F3000\n")
    assert (await octo.post("/api/printer/sd", {"command": "init"})).status == 204
    listing = (await octo.get("/api/files/sdcard")).json()
    assert [f["origin"] for f in listing["files"]] == ["sdcard"]
    name = listing["files"][0]["path"]
    assert (await octo.get(f"/api/files/sdcard/{name}")).json()["origin"] == "sdcard"
    every = (await octo.get("/api/files")).json()
    assert {f["origin"] for f in every["files"]} == {"local", "sdcard"}


async def test_settings_persist_and_other_resources(octo: Octo) -> None:
    reply = await octo.post("/api/settings", {"appearance": {"name": "Workshop"},
                                              "webcam": {"streamUrl": "/webcam/?action=stream",
                                                         "flipH": True}})
    assert reply.status == 200
    assert reply.json()["appearance"]["name"] == "Workshop"
    assert (await octo.post("/api/settings", {"webcam": {"flipH": "yes"}})).status == 400
    stored = await octo.srv.server.database.get_item("octoprint_compat", "settings")
    assert stored["appearance"]["name"] == "Workshop"
    settings = (await octo.get("/api/settings")).json()
    assert settings["webcam"]["streamUrl"] == "/webcam/?action=stream"
    assert settings["webcam"]["flipH"] is True
    profiles = (await octo.get("/api/printerprofiles")).json()
    assert profiles["profiles"]["_default"]["name"] == "Workshop"
    assert (await octo.get("/api/timelapse")).json()["files"] == []
    assert (await octo.get("/api/system/commands")).json() == {"core": [], "custom": []}
    assert (await octo.get("/api/server")).json()["version"]
    user = (await octo.get("/api/currentuser")).json()
    assert user["name"] == "_api" and "STATUS" in user["permissions"]
    # the key is also taken as ?apikey= and as a bearer token, as OctoPrint takes it
    assert (await octo.srv.http.get(f"/api/version?apikey={octo.key}")).status == 200
    assert (await octo.srv.http.get("/api/version", headers={
        "Authorization": f"Bearer {octo.key}"})).status == 200
    anonymous = await octo.srv.http.post("/api/login", json={"passive": True})
    assert anonymous.status == 403


async def test_login_without_a_body_is_a_passive_login(octo: Octo) -> None:
    """Apps check the login with a bare POST (no body, no Content-Type): 200 with the
    current user, as OctoPrint and Moonraker's shim answer."""
    bare = await octo.srv.http.post("/api/login", headers=octo.headers)
    assert bare.status == 200
    user = bare.json()
    assert user["name"] == "_api" and user["active"] is True
    assert len(user["session"]) == 64 and "STATUS" in user["permissions"]
    passive = (await octo.post("/api/login", {"passive": True})).json()
    assert {k: v for k, v in passive.items() if k != "session"} == {
        k: v for k, v in user.items() if k != "session"}
    # without credentials there is no current user
    assert (await octo.srv.http.post("/api/login")).status == 403
    # an empty body declared as JSON is the same bare check
    empty_json = await octo.srv.http.post("/api/login", body=b"", headers={
        **octo.headers, "Content-Type": "application/json"})
    assert empty_json.status == 200 and empty_json.json()["name"] == "_api"
    # a JSON body naming neither form
    neither = await octo.post("/api/login", {"remember": True})
    assert neither.status == 400
