"""server.webcams.*: configured cameras are read-only, the others live in the database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gateway.app import Server, ServerOptions
from gateway.config import ConfigError
from tests.harness import RpcError, RunningServer, running_server, write_config

from .conftest import CONFIG as BASE
from .conftest import wait_for

CONFIG = BASE + """
[webcam printer_cam]
stream_url: /webcam/?action=stream
snapshot_url: /webcam/?action=snapshot
rotation: 90
flip_horizontal: True
"""

FIELDS = [
    "name", "enabled", "icon", "aspect_ratio", "target_fps", "target_fps_idle", "location",
    "service", "stream_url", "snapshot_url", "flip_horizontal", "flip_vertical", "rotation",
    "source", "extra_data", "uid",
]


def changed(ws: Any) -> list[list[dict[str, Any]]]:
    return [
        n["params"][0]["webcams"]
        for n in ws.notifications
        if n["method"] == "notify_webcams_changed"
    ]


async def test_empty_list_as_moonraker(srv: RunningServer) -> None:
    reply = await srv.http.get("/server/webcams/list")
    assert reply.json() == {"result": {"webcams": []}}
    info = await srv.http.get("/server/info")
    assert "webcam" in info.json()["result"]["components"]


async def test_configured_camera_is_listed_and_read_only(tmp_path: Path) -> None:
    async with running_server(tmp_path, CONFIG) as srv:
        ws = await srv.websocket()
        cams = (await ws.call("server.webcams.list"))["webcams"]
        assert len(cams) == 1
        cam = cams[0]
        assert list(cam) == FIELDS
        assert cam["name"] == "printer_cam" and cam["source"] == "config"
        assert (cam["rotation"], cam["flip_horizontal"], cam["aspect_ratio"]) == (90, True, "4:3")
        assert cam["service"] == "mjpegstreamer" and cam["extra_data"] == {}
        item = await ws.call("server.webcams.get_item", {"uid": cam["uid"]})
        assert item == {"webcam": cam}
        with pytest.raises(RpcError) as err:
            await ws.call("server.webcams.post_item", {"name": "printer_cam", "target_fps": 5})
        assert (err.value.code, err.value.message) == (
            400, "Cannot overwrite webcam 'printer_cam' sourced from Moonraker configuration")
        reply = await srv.http.delete("/server/webcams/item?name=printer_cam")
        assert reply.status == 400
        assert reply.json()["error"]["message"] == (
            "Cannot delete webcam 'printer_cam' sourced from Moonraker configuration")
        test = await ws.call("server.webcams.test", {"name": "printer_cam"})
        assert test == {
            "name": "printer_cam",
            "snapshot_reachable": False,
            "snapshot_url": "http://127.0.0.1/webcam/?action=snapshot",
            "stream_url": "http://127.0.0.1/webcam/?action=stream",
        }
    # the uid of a configured camera is stable across restarts
    async with running_server(tmp_path, CONFIG) as srv:
        again = (await srv.http.get("/server/webcams/list")).json()["result"]["webcams"]
        assert again[0]["uid"] == cam["uid"]


async def test_crud_persists_across_restart(tmp_path: Path) -> None:
    async with running_server(tmp_path, CONFIG) as srv:
        ws = await srv.websocket()
        created = (await ws.call("server.webcams.post_item", {
            "name": "bed", "stream_url": "http://cam.local:8080/stream",
            "snapshot_url": "http://cam.local:8080/snap", "target_fps": "30",
            "flip_vertical": "true", "extra_data": {"note": "over the bed"},
        }))["webcam"]
        assert list(created) == FIELDS
        assert created["source"] == "database" and created["target_fps"] == 30
        assert created["flip_vertical"] is True
        assert created["extra_data"] == {"note": "over the bed"}
        await wait_for(lambda: len(changed(ws)) == 1)
        assert [c["name"] for c in changed(ws)[0]] == ["printer_cam", "bed"]

        # update by uid over HTTP (JSON body), with a rename
        reply = await srv.http.post("/server/webcams/item", json={
            "uid": created["uid"], "name": "bed cam", "rotation": 180, "uid_ignored": 1})
        updated = reply.json()["result"]["webcam"]
        assert (updated["name"], updated["rotation"], updated["uid"]) == (
            "bed cam", 180, created["uid"])
        assert updated["stream_url"] == created["stream_url"]
        # a second camera, then the stored layout is Moonraker's
        await ws.call("server.webcams.post_item", {"name": "door", "stream_url": "/door"})
        stored = await ws.call("server.database.get_item", {"namespace": "webcams"})
        entry = stored["value"][created["uid"]]
        assert entry["name"] == "bed cam" and entry["urlStream"] == created["stream_url"]
        assert entry["flipY"] is True and entry["targetFps"] == 30 and entry["rotation"] == 180

    async with running_server(tmp_path, CONFIG) as srv:
        ws = await srv.websocket()
        cams = (await ws.call("server.webcams.list"))["webcams"]
        assert [c["name"] for c in cams] == ["printer_cam", "bed cam", "door"]
        assert cams[1] == updated
        deleted = await ws.call("server.webcams.delete_item", {"name": "door"})
        assert deleted["webcam"]["name"] == "door"
        await wait_for(lambda: len(changed(ws)) == 1)
        assert [c["name"] for c in changed(ws)[0]] == ["printer_cam", "bed cam"]

    async with running_server(tmp_path, CONFIG) as srv:
        cams = (await srv.http.get("/server/webcams/list")).json()["result"]["webcams"]
        assert [c["name"] for c in cams] == ["printer_cam", "bed cam"]


async def test_errors(srv: RunningServer) -> None:
    ws = await srv.websocket()

    async def error(method: str, params: dict[str, Any]) -> tuple[int, str]:
        with pytest.raises(RpcError) as err:
            await ws.call(method, params)
        return err.value.code, err.value.message

    assert await error("server.webcams.get_item", {"name": "nope"}) == (
        -32601, "Webcam nope not found")
    assert await error("server.webcams.get_item", {"uid": "1234"}) == (
        -32601, "Webcam with UID 1234 not found")
    assert await error("server.webcams.post_item", {"name": "x"}) == (
        -32602, "No data for argument: stream_url")
    assert await error("server.webcams.post_item", {"stream_url": "/s"}) == (
        -32602, "No data for argument: name")
    assert await error("server.webcams.post_item",
                       {"name": "x", "stream_url": "/s", "rotation": 45}) == (
        400, "Invalid value for 'rotation': 45")
    assert await error("server.webcams.post_item",
                       {"name": "x", "stream_url": "/s", "aspect_ratio": "wide"}) == (
        400, "Invalid value for 'aspect_ratio': wide")
    assert (await ws.call("server.webcams.list"))["webcams"] == []
    a = (await ws.call("server.webcams.post_item", {"name": "a", "stream_url": "/a"}))["webcam"]
    await ws.call("server.webcams.post_item", {"name": "b", "stream_url": "/b"})
    assert await error("server.webcams.post_item", {"uid": a["uid"], "name": "b"}) == (
        400, "Cannot rename webcam from 'a' to 'b'.  Webcam with requested name 'b' "
        "already exists.")
    test = await ws.call("server.webcams.test", {"uid": a["uid"]})
    assert test == {"name": "a", "snapshot_reachable": False, "snapshot_url": "",
                    "stream_url": "http://127.0.0.1/a"}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ("snapshot_url: /snap", "[webcam c] option 'stream_url': required"),
        ("stream_url: /s\nrotation: 45", "[webcam c] Invalid value for 'rotation': 45"),
        ("stream_url: /s\ntarget_fps: fast", "[webcam c] option 'target_fps': expected int"),
    ],
)
def test_bad_webcam_section_stops_start_up(tmp_path: Path, options: str, message: str) -> None:
    write_config(tmp_path, BASE + "\n[webcam c]\n" + options + "\n")
    with pytest.raises(ConfigError) as err:
        Server(ServerOptions(data_dir=tmp_path))
    assert str(err.value).startswith(message)
