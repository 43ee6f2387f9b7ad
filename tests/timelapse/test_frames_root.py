"""The `timelapse_frames` root: the current print's frames, flat, where Mainsail and Fluidd
fetch the last-frame preview (`/server/files/timelapse_frames/frame000002.jpg`)."""

from __future__ import annotations

from pathlib import Path

from tests.printer.conftest import write_gcode
from tests.timelapse.conftest import Camera, ready, server, timelapse_of


async def test_the_last_frame_is_served_from_timelapse_frames(
    tmp_path: Path, camera: Camera
) -> None:
    async with server(tmp_path, f"camera: {camera.url}") as srv:
        await ready(srv)
        ws = await srv.websocket()
        info = await ws.call("server.info")
        assert "timelapse_frames" in info["registered_directories"]
        for _ in range(2):
            await ws.call("printer.gcode.script", {"script": "TIMELAPSE_TAKE_FRAME"})
        last = await ws.call("machine.timelapse.lastframeinfo")
        assert last == {"framecount": 2, "lastframefile": "frame000002.jpg"}
        # Mainsail: apiUrl + '/server/files/timelapse_frames/' + lastFrame.file
        reply = await srv.http.get("/server/files/timelapse_frames/frame000002.jpg")
        assert reply.status == 200 and reply.body == camera.frames[1]
        listing = await ws.call("server.files.get_directory", {"path": "timelapse_frames"})
        assert [f["filename"] for f in listing["files"]] == ["frame000001.jpg",
                                                             "frame000002.jpg"]
        # a new print: its frames are the ones shown
        write_gcode(srv, "t.gcode", ["G28", "M400"])
        await ws.call("printer.print.start", {"filename": "t.gcode"})
        frames = timelapse_of(srv).capturer.frames
        assert frames is not None and frames.printfile == "t.gcode"
        empty = await ws.call("server.files.get_directory", {"path": "timelapse_frames"})
        assert empty["files"] == []
        missing = await srv.http.get("/server/files/timelapse_frames/frame000002.jpg")
        assert missing.status == 404
