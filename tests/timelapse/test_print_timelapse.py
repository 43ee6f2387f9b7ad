"""A print on the virtual printer with a camera on loopback: a frame per layer, the
video rendered and checked with ffprobe, the print unharmed by a dead camera, and the
videos listed and deleted through the Moonraker-style and OctoPrint APIs."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest

from tests.harness import RunningServer, Websocket
from tests.printer.conftest import printer_of, square_print, wait_until, write_gcode
from tests.timelapse.conftest import (
    Camera,
    ffprobe_codec,
    ffprobe_frames,
    needs_ffmpeg,
    ready,
    server,
    timelapse_of,
)

pytestmark = needs_ffmpeg
LAYERS = 4


def events(ws: Websocket, action: str, status: str | None = None) -> list[dict[str, Any]]:
    out = []
    for note in ws.notifications:
        if note["method"] != "notify_timelapse_event":
            continue
        event = note["params"][0]
        if event["action"] == action and (status is None or event["status"] == status):
            out.append(event)
    return out


def slow_print(layers: int) -> list[str]:
    """Layers of about a second each on the fast virtual printer (its status reports
    the current layer four times a second)."""
    lines = square_print(layers=layers, segments=40)
    return [line.replace(" F18", " F3").replace(" F19", " F3") for line in lines]


async def print_file(srv: RunningServer, name: str, lines: list[str]) -> None:
    write_gcode(srv, name, lines)
    reply = await srv.http.post(f"/printer/print/start?filename={name}")
    assert reply.status == 200, reply.body


async def finished(srv: RunningServer) -> str:
    printer = printer_of(srv)
    state: dict[str, str] = {}
    await wait_until(lambda: _state(printer, state) in ("complete", "cancelled", "error"),
                     timeout=60, what="print end")
    return state["state"]


def _state(printer: Any, into: dict[str, str]) -> str:
    into["state"] = printer.query_status({"print_stats": ["state"]})["print_stats"]["state"]
    return into["state"]


async def test_a_frame_per_layer_rendered_listed_and_deleted(
        tmp_path: Path, camera: Camera) -> None:
    async with server(tmp_path, f"camera: {camera.url}\nfps: 10\nsnapshot_timeout: 1") as srv:
        await ready(srv)
        ws = await srv.websocket()
        await print_file(srv, "cube.gcode", slow_print(LAYERS))
        note = await ws.wait_notification(
            "notify_timelapse_event",
            lambda n: n["params"][0]["action"] == "render"
            and n["params"][0]["status"] in ("success", "error"), timeout=60)
        result = note["params"][0]
        assert result["status"] == "success", result
        assert await finished(srv) == "complete"
        frames = events(ws, "newframe", "success")
        assert len(frames) == LAYERS
        assert [f["framefile"] for f in frames] == [
            f"frame{i:06d}.jpg" for i in range(1, LAYERS + 1)]
        assert not events(ws, "newframe", "error")
        assert result["framecount"] == str(LAYERS)
        assert next(e["status"] for e in events(ws, "render")) == "started"
        assert events(ws, "render", "running")[-1]["progress"] == 100

        tl = timelapse_of(srv)
        video = tl.library.path / result["filename"]
        assert result["filename"].startswith("timelapse_cube_")
        assert await asyncio.to_thread(ffprobe_frames, video) == LAYERS
        assert await asyncio.to_thread(ffprobe_codec, video) == "h264"
        thumb = video.with_suffix(".jpg")
        assert result["previewimage"] == thumb.name and thumb.read_bytes()[:2] == b"\xff\xd8"
        # the frames went with the render (keep_frames is off)
        assert not any(tl.frame_root.glob("*/frame*.jpg"))

        # Moonraker-style: settings, last frame, the folder's files, download, delete
        settings = await ws.call("machine.timelapse.get_settings")
        assert settings["enabled"] is True and settings["mode"] == "layermacro"
        assert settings["snapshoturl"] == camera.url
        assert {"camera", "output_framerate", "snapshoturl"} <= set(settings["blockedsettings"])
        listed = await ws.call("machine.timelapse.list_files")
        assert {f["path"] for f in listed} == {video.name, thumb.name}
        got = await srv.http.get(f"/machine/timelapse/files/{video.name}")
        assert got.status == 200 and got.body == video.read_bytes()
        assert got.headers["Content-Type"] == "video/mp4"

        # OctoPrint: the list, the download URL, DELETE
        octo = await srv.http.get("/api/timelapse")
        assert octo.status == 200
        body = octo.json()
        assert body["config"]["type"] == "zchange" and body["config"]["fps"] == 10
        [entry] = body["files"]
        assert entry["name"] == video.name and entry["bytes"] == video.stat().st_size
        assert entry["url"] == f"/downloads/timelapse/{video.name}"
        download = await srv.http.get(entry["url"])
        assert download.status == 200 and download.body == video.read_bytes()
        deleted = await srv.http.delete(f"/api/timelapse/{video.name}")
        assert deleted.status == 200 and deleted.json()["files"] == []
        assert not video.exists() and not thumb.exists()
        assert await ws.call("machine.timelapse.list_files") == []
        await ws.wait_notification(
            "notify_filelist_changed",
            lambda n: n["params"][0]["action"] == "delete_file"
            and n["params"][0]["item"] == {"path": video.name, "root": "timelapse",
                                           "modified": 0, "size": 0, "permissions": ""})


async def test_a_dead_camera_costs_frames_not_the_print(
        tmp_path: Path, camera: Camera, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="components.timelapse")
    async with server(tmp_path, f"camera: {camera.url}\nfps: 10\n"
                                "snapshot_timeout: 0.3") as srv:
        await ready(srv)
        ws = await srv.websocket()
        await print_file(srv, "tall.gcode", slow_print(LAYERS))
        # two good frames, then the camera hangs past the timeout
        await ws.wait_notification(
            "notify_timelapse_event",
            lambda n: n["params"][0]["action"] == "newframe"
            and n["params"][0].get("frame") == "1", timeout=60)
        camera.mode = "hang"
        note = await ws.wait_notification(
            "notify_timelapse_event",
            lambda n: n["params"][0]["action"] == "render"
            and n["params"][0]["status"] in ("success", "error"), timeout=60)
        assert await finished(srv) == "complete"
        good = events(ws, "newframe", "success")
        bad = events(ws, "newframe", "error")
        assert len(good) >= 1 and bad
        assert len(good) + len(bad) == LAYERS
        assert "timed out" in bad[0]["msg"]
        assert any("skipped" in r.getMessage() and "timed out" in r.getMessage()
                   for r in caplog.records)
        # the video has the frames that came
        result = note["params"][0]
        assert result["status"] == "success"
        video = timelapse_of(srv).library.path / result["filename"]
        assert await asyncio.to_thread(ffprobe_frames, video) == len(good)
        camera.release.set()
