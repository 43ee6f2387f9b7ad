"""What PrusaSlicer/OrcaSlicer and Cura's OctoPrint connection do, replayed."""

from __future__ import annotations

import urllib.parse

from tests.octoprint.conftest import (
    Octo,
    gcode_bytes,
    job_state,
    long_gcode,
    start_long_print,
    wait_job,
)


async def test_prusaslicer_probe_then_upload_and_print(octo: Octo) -> None:
    # 1. the "Test" button and the probe before every upload: api + text "OctoPrint..."
    reply = await octo.get("/api/version")
    assert reply.status == 200
    version = reply.json()
    assert "api" in version and version["text"].startswith("OctoPrint")
    # a wrong key is refused, and so is none (the client is not on a trusted address)
    assert (await octo.srv.http.get("/api/version",
                                    headers={"X-Api-Key": "wrong"})).status == 403
    assert (await octo.srv.http.get("/api/version")).status == 403
    # 2. multipart with print, path (empty: the root) and file, in PrusaSlicer's order
    reply = await octo.upload("benchy.gcode", gcode_bytes(layers=2),
                              {"print": "true", "path": ""})
    assert reply.status == 201, reply.body
    body = reply.json()
    assert body["done"] is True and body["effectivePrint"] is True
    assert body["files"]["local"]["path"] == "benchy.gcode"
    assert body["files"]["local"]["origin"] == "local"
    assert (octo.srv.server.data_dir / "gcodes" / "benchy.gcode").is_file()
    # it printed: a short file completes
    job = await wait_job(octo, ("Operational",))
    assert job["job"]["file"]["name"] == "benchy.gcode"
    assert job["progress"]["completion"] == 100.0


async def test_orcaslicer_upload_into_a_folder_without_printing(octo: Octo) -> None:
    reply = await octo.upload("plate_1.gcode", gcode_bytes(layers=1),
                              {"print": "false", "path": "orca/parts"})
    assert reply.status == 201, reply.body
    body = reply.json()
    assert body["effectivePrint"] is False and body["effectiveSelect"] is False
    assert body["files"]["local"]["path"] == "orca/parts/plate_1.gcode"
    assert (await job_state(octo))["state"] == "Operational"
    listing = (await octo.get("/api/files?recursive=true")).json()
    folder = next(e for e in listing["files"] if e["name"] == "orca")
    assert folder["type"] == "folder"
    parts = folder["children"][0]
    assert parts["children"][0]["path"] == "orca/parts/plate_1.gcode"


async def test_upload_errors(octo: Octo) -> None:
    reply = await octo.upload("notes.txt", b"hello", {"path": ""})
    assert reply.status == 415
    assert reply.json() == {"error": "Could not upload file, invalid type"}
    assert not (octo.srv.server.data_dir / "gcodes" / "notes.txt").exists()
    reply = await octo.upload("x.gcode", b"G28\n", {"path": "../outside"})
    assert reply.status == 400
    body = b"--b\r\nContent-Disposition: form-data; name=\"print\"\r\n\r\ntrue\r\n--b--\r\n"
    reply = await octo.srv.http.post("/api/files/local", body=body, headers={
        **octo.headers, "Content-Type": "multipart/form-data; boundary=b"})
    assert reply.status == 400
    assert reply.json()["error"] == "No file to upload and no folder to create"
    # without a key: refused before a byte is stored
    reply = await octo.srv.http.post("/api/files/local", body=body, headers={
        "Content-Type": "multipart/form-data; boundary=b"})
    assert reply.status == 403


async def test_upload_while_printing_is_stored_but_not_printed(octo: Octo) -> None:
    await start_long_print(octo)
    reply = await octo.upload("next.gcode", gcode_bytes(layers=1), {"print": "true"})
    assert reply.status == 201
    assert reply.json()["effectivePrint"] is False
    assert (await job_state(octo))["job"]["file"]["name"] == "long.gcode"
    # overwriting the file being printed: 409
    reply = await octo.upload("long.gcode", long_gcode(10), {"print": "false"})
    assert reply.status == 409
    assert reply.json()["error"] == "Trying to overwrite file that is currently being printed"
    assert (await octo.post("/api/job", {"command": "cancel"})).status == 204
    await wait_job(octo, ("Operational",))


async def test_cura_connection(octo: Octo) -> None:
    # key test + features
    settings = (await octo.get("/api/settings")).json()
    assert settings["feature"]["sdSupport"] is True
    assert settings["webcam"]["streamUrl"] == ""
    assert {"flipH", "flipV", "rotate90"} <= settings["webcam"].keys()
    assert settings["gcodeAnalysis"]["runAt"] == "idle"
    assert isinstance(settings["plugins"], dict)
    assert (await octo.get("/api/version")).json()["server"]
    login = (await octo.post("/api/login", {"passive": True})).json()
    assert login["name"] == "_api" and len(login["session"]) == 64
    profiles = (await octo.get("/api/printerprofiles")).json()["profiles"]
    current = next(p for p in profiles.values() if p["current"])
    assert current["name"] and current["model"]
    assert current["axes"]["x"]["speed"] > 0 and current["axes"]["z"]["inverted"] is False
    # no [printer] limits configured: the build area the firmware reports (M115, M211)
    assert current["volume"]["width"] == 235.0 and current["heatedBed"] is True
    # polling
    printer = (await octo.get("/api/printer")).json()
    assert printer["state"]["flags"]["operational"] is True
    job = await job_state(octo)
    assert job["state"] == "Operational"
    # upload with select + print; Cura finds the file through the Location header
    reply = await octo.upload("cura part.gcode", long_gcode(),
                              {"path": "cura", "select": "true", "print": "true"})
    assert reply.status == 201
    location = reply.headers["Location"]
    assert location.split("api/", 1)[1] == "files/local/cura/cura%20part.gcode"
    info = await octo.get("/" + urllib.parse.urlsplit(location).path.lstrip("/"))
    assert info.json()["path"] == "cura/cura part.gcode"
    assert info.json()["gcodeAnalysis"]["estimatedPrintTime"] == 600.0
    job = await wait_job(octo, ("Printing",))
    assert job["job"]["file"]["path"] == "cura/cura part.gcode"
    assert job["job"]["estimatedPrintTime"] == 600.0
    assert job["progress"]["printTimeLeftOrigin"] == "analysis"
    # Cura sends G-code through /api/printer/command
    reply = await octo.post("/api/printer/command", {"commands": ["M117 from Cura"]})
    assert reply.status == 204
    # pause without action toggles; pause again resumes; then cancel
    assert (await octo.post("/api/job", {"command": "pause"})).status == 204
    await wait_job(octo, ("Paused",))
    assert (await octo.post("/api/job", {"command": "pause"})).status == 204
    await wait_job(octo, ("Printing",))
    assert (await octo.post("/api/job", {"command": "cancel"})).status == 204
    job = await wait_job(octo, ("Operational",))
    # the selected file stays; start prints it again
    assert job["job"]["file"]["name"] == "cura part.gcode"
    assert (await octo.post("/api/job", {"command": "start"})).status == 204
    await wait_job(octo, ("Printing",))
    assert (await octo.post("/api/job", {"command": "cancel"})).status == 204
    await wait_job(octo, ("Operational",))
    # a command Cura jogs with once idle
    reply = await octo.post("/api/printer/command",
                            {"commands": ["G91", "G0 X1 Y1 F6000", "G90"]})
    assert reply.status == 204
