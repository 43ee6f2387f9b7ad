"""Settings (stored, blocked by the config file), the camera by webcam name, the missing
ffmpeg, console commands, Octolapse and OctoPrint configuration, parking."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from components.printer.api import JobPaused
from gateway.config import Config
from gateway.loader import discover
from tests.harness import RpcError, running_server
from tests.printer.conftest import printer_of, wait_until, write_gcode
from tests.timelapse.conftest import (
    BASE_CONFIG,
    Camera,
    ffprobe_frames,
    needs_ffmpeg,
    ready,
    server,
    timelapse_of,
)
from tests.timelapse.test_print_timelapse import events, finished, slow_print


def test_loaded_with_its_section() -> None:
    assert "timelapse" in [f.name for f in discover(Config.from_string("[timelapse]\n"))]
    assert "timelapse" not in [f.name for f in discover(Config.from_string(""))]


async def test_server_info_names_the_component(tmp_path: Path) -> None:
    async with server(tmp_path, "camera: http://127.0.0.1:9/x") as srv:
        info = (await srv.http.get("/server/info")).json()["result"]
        assert "timelapse" in info["components"]
    async with running_server(tmp_path / "none", BASE_CONFIG) as srv:
        assert "timelapse" not in srv.server.components
        octo = (await srv.http.get("/api/timelapse")).json()
        assert octo["config"] == {"type": "off"} and octo["files"] == []


async def test_settings_are_stored_and_config_options_blocked(tmp_path: Path) -> None:
    cfg = "camera: cam\nfps: 12\n\n[webcam cam]\nstream_url: /s\n" \
          "snapshot_url: http://127.0.0.1:8080/?action=snapshot\n"
    async with server(tmp_path, cfg) as srv:
        ws = await srv.websocket()
        before = await ws.call("machine.timelapse.get_settings")
        assert before["snapshoturl"] == "http://127.0.0.1:8080/?action=snapshot"
        assert before["output_framerate"] == 12
        assert "output_framerate" in before["blockedsettings"]
        after = await ws.call("machine.timelapse.post_settings", {
            "output_framerate": 60, "constant_rate_factor": 30, "mode": "hyperlapse",
            "hyperlapse_cycle": 5, "not_a_setting": 1})
        assert after["output_framerate"] == 12  # blocked by [timelapse]
        assert after["constant_rate_factor"] == 30 and after["mode"] == "hyperlapse"
        with pytest.raises(RpcError) as err:
            await ws.call("machine.timelapse.post_settings", {"constant_rate_factor": 99})
        assert err.value.code == 400
        # HTTP form values convert like Moonraker's
        reply = await srv.http.post("/machine/timelapse/settings?autorender=false")
        assert reply.json()["result"]["autorender"] is False
        info = await ws.call("machine.timelapse.lastframeinfo")
        assert info == {"framecount": 0, "lastframefile": ""}
    async with server(tmp_path, cfg) as srv:  # the same data folder: stored settings back
        ws = await srv.websocket()
        again = await ws.call("machine.timelapse.get_settings")
        assert again["constant_rate_factor"] == 30 and again["mode"] == "hyperlapse"
        assert again["hyperlapse_cycle"] == 5 and again["autorender"] is False


async def test_octolapse_and_octoprint_configuration(tmp_path: Path) -> None:
    async with server(tmp_path, "camera: http://127.0.0.1:9/snap\ncrf: 20") as srv:
        status = await srv.http.get("/plugin/octolapse/status")
        assert status.status == 200
        body = status.json()
        assert body["is_timelapse_active"] is False and body["snapshot_count"] == 0
        assert body["snapshot_url"] == "http://127.0.0.1:9/snap"
        settings = (await srv.http.get("/plugin/octolapse/settings")).json()
        assert settings["is_octolapse_enabled"] is True
        assert settings["trigger"]["type"] == "layer"
        assert settings["rendering"]["crf"] == 20
        tl = timelapse_of(srv)
        # OctoPrint's POST /api/timelapse body, through the component (the octoprint
        # route table does not route POST to the handler yet: see docs/timelapse.md)
        listing = await tl.octoprint_configure({"type": "timed", "interval": 7, "fps": 24})
        assert listing["config"] == {"type": "timed", "fps": 24, "postRoll": 0, "interval": 7}
        assert (await tl.octoprint_configure({"type": "off"}))["enabled"] is False
        octo = (await srv.http.get("/api/timelapse")).json()
        assert octo["config"]["type"] == "off" and octo["enabled"] is False
        missing = await srv.http.delete("/api/timelapse/nothing.mp4")
        assert missing.status == 404
        bad = await srv.http.delete("/machine/timelapse/files?filename=..%2Fx.mp4")
        assert bad.status == 400


@needs_ffmpeg
@pytest.mark.allow_error_logs
async def test_missing_ffmpeg_is_a_clear_error(tmp_path: Path, camera: Camera) -> None:
    missing = tmp_path / "no" / "ffmpeg"
    cfg = f"camera: {camera.url}\nffmpeg_path: {missing}"
    # a program other than the default must be allowed by the host policy file
    policy = tmp_path / "host-policy.conf"
    policy.write_text(f"[timelapse]\nffmpeg_path: {missing}\n")
    async with server(tmp_path / "data", cfg, host_policy=policy) as srv:
        await ready(srv)
        ws = await srv.websocket()
        await ws.call("printer.gcode.script", {"script": "TIMELAPSE_TAKE_FRAME"})
        await ws.call("printer.gcode.script", {"script": "TIMELAPSE_TAKE_FRAME"})
        assert await ws.call("machine.timelapse.lastframeinfo") == {
            "framecount": 2, "lastframefile": "frame000002.jpg"}
        result = await ws.call("machine.timelapse.render")
        assert result["action"] == "render" and result["status"] == "error"
        assert "ffmpeg not found" in result["msg"]
        assert "apt install ffmpeg" in result["msg"]
        note = await ws.wait_notification(
            "notify_timelapse_event", lambda n: n["params"][0]["status"] == "error")
        assert note["params"][0]["msg"] == result["msg"]
        # the frames stay for a later render
        frames = timelapse_of(srv).capturer.frames
        assert frames is not None and len(frames.files()) == 2
        saved = await ws.call("machine.timelapse.saveframes")
        assert saved["status"] == "finished" and saved["zipfile"].endswith("_frames.zip")
        listed = await ws.call("machine.timelapse.list_files")
        assert [f["path"] for f in listed] == [saved["zipfile"]]


@needs_ffmpeg
async def test_parking_pauses_snaps_and_resumes(tmp_path: Path, camera: Camera) -> None:
    cfg = f"camera: {camera.url}\npark: True\npark_gcode: G0 X0 Y0 F6000\n" \
          "park_settle_time: 0.05\nfps: 10"
    async with server(tmp_path, cfg) as srv:
        await ready(srv)
        ws = await srv.websocket()
        paused: list[JobPaused] = []
        srv.server.events.subscribe(JobPaused, paused.append)
        write_gcode(srv, "parked.gcode", slow_print(3))
        await printer_of(srv).start_print("parked.gcode")
        note = await ws.wait_notification(
            "notify_timelapse_event",
            lambda n: n["params"][0]["action"] == "render"
            and n["params"][0]["status"] in ("success", "error"), timeout=60)
        assert note["params"][0]["status"] == "success"
        assert await finished(srv) == "complete"
        assert len(events(ws, "newframe", "success")) == 3
        assert len(paused) == 2  # the layer frames; the last one is after the print
        video = timelapse_of(srv).library.path / note["params"][0]["filename"]
        assert await asyncio.to_thread(ffprobe_frames, video) == 3


async def test_console_frame_without_a_camera_is_skipped(tmp_path: Path) -> None:
    async with server(tmp_path, "camera: nosuchcam") as srv:
        await ready(srv)
        ws = await srv.websocket()
        await ws.call("printer.gcode.script", {"script": "TIMELAPSE_TAKE_FRAME"})
        await wait_until(lambda: bool(events(ws, "newframe", "error")), what="error event")
        assert "no snapshot URL" in events(ws, "newframe", "error")[0]["msg"]


@needs_ffmpeg
async def test_hyperlapse_takes_frames_on_a_timer(tmp_path: Path, camera: Camera) -> None:
    cfg = f"camera: {camera.url}\nmode: hyperlapse\nhyperlapse_interval: 0.4\nfps: 10"
    async with server(tmp_path, cfg) as srv:
        await ready(srv)
        ws = await srv.websocket()
        write_gcode(srv, "timed.gcode", slow_print(3))
        await printer_of(srv).start_print("timed.gcode")
        await ws.wait_notification(
            "notify_timelapse_event", lambda n: n["params"][0].get("frame") == "3",
            timeout=60)
        status = (await srv.http.get("/plugin/octolapse/status")).json()
        assert status["is_timelapse_active"] is True and status["snapshot_count"] >= 3
        note = await ws.wait_notification(
            "notify_timelapse_event",
            lambda n: n["params"][0]["action"] == "render"
            and n["params"][0]["status"] in ("success", "error"), timeout=60)
        assert note["params"][0]["status"] == "success"
        assert await finished(srv) == "complete"
        taken = len(events(ws, "newframe", "success"))
        video = timelapse_of(srv).library.path / note["params"][0]["filename"]
        assert await asyncio.to_thread(ffprobe_frames, video) == taken
