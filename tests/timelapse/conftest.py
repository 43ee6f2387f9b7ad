"""A camera on loopback (tornado, in the test's loop) serving JPEGs made with ffmpeg's
test source, and the real server with the fast virtual printer and `[timelapse]`."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import tornado.httpserver
import tornado.netutil
import tornado.web

from components.timelapse.component import Timelapse
from tests.harness import RunningServer, running_server
from tests.printer.conftest import printer_of, wait_until

FFMPEG = shutil.which("ffmpeg")
FFPROBE = shutil.which("ffprobe")
needs_ffmpeg = pytest.mark.skipif(FFMPEG is None or FFPROBE is None,
                                  reason="ffmpeg/ffprobe not installed")

BASE_CONFIG = """
[server]
host: 127.0.0.1
port: 0

[serial]
port: virtual
virtual_time_scale: 25
"""


@pytest.fixture(scope="session")
def jpeg_frames(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    """Six distinct 320x240 JPEGs from ffmpeg's testsrc (made once)."""
    if FFMPEG is None:
        pytest.skip("ffmpeg not installed")
    folder = tmp_path_factory.mktemp("testsrc")
    subprocess.run([FFMPEG, "-hide_banner", "-loglevel", "error", "-f", "lavfi",
                    "-i", "testsrc=size=320x240:rate=1", "-frames:v", "6",
                    str(folder / "x%d.jpg")], check=True, timeout=60)
    return [(folder / f"x{i}.jpg").read_bytes() for i in range(1, 7)]


class Camera:
    """GET /snapshot: the next JPEG; `mode` "ok" | "hang" (never answers while hanging)."""

    def __init__(self, frames: list[bytes]) -> None:
        self.frames = frames
        self.mode = "ok"
        self.served = 0
        self.requests = 0
        self.release = asyncio.Event()
        self.server: tornado.httpserver.HTTPServer | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/snapshot"

    def start(self) -> None:
        camera = self

        class Snapshot(tornado.web.RequestHandler):
            async def get(self) -> None:
                camera.requests += 1
                if camera.mode == "hang":
                    await camera.release.wait()
                    return
                self.set_header("Content-Type", "image/jpeg")
                self.finish(camera.frames[camera.served % len(camera.frames)])
                camera.served += 1

        app = tornado.web.Application([(r"/snapshot", Snapshot)])
        sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
        self.port = sockets[0].getsockname()[1]
        self.server = tornado.httpserver.HTTPServer(app)
        self.server.add_sockets(sockets)

    async def close(self) -> None:
        self.release.set()
        if self.server is not None:
            self.server.stop()
            await self.server.close_all_connections()


@pytest.fixture
async def camera(jpeg_frames: list[bytes]) -> AsyncIterator[Camera]:
    cam = Camera(jpeg_frames)
    cam.start()
    yield cam
    await cam.close()


def timelapse_of(srv: RunningServer) -> Timelapse:
    tl = srv.server.components["timelapse"]
    assert isinstance(tl, Timelapse)
    return tl


def config(timelapse: str) -> str:
    return BASE_CONFIG + "\n[timelapse]\n" + timelapse.strip() + "\n"


async def ready(srv: RunningServer) -> None:
    printer = printer_of(srv)
    await wait_until(lambda: printer.state == "ready", what="printer ready")


def server(tmp_path: Path, timelapse: str, **options: Any) -> Any:
    return running_server(tmp_path, config(timelapse), **options)


def ffprobe_frames(path: Path) -> int:
    assert FFPROBE is not None
    out = subprocess.run(
        [FFPROBE, "-v", "error", "-count_frames", "-select_streams", "v:0",
         "-show_entries", "stream=nb_read_frames,codec_name", "-of", "csv=p=0", str(path)],
        check=True, capture_output=True, text=True, timeout=60).stdout.strip()
    fields = out.split(",")
    return int(fields[-1])


def ffprobe_codec(path: Path) -> str:
    assert FFPROBE is not None
    return subprocess.run(
        [FFPROBE, "-v", "error", "-select_streams", "v:0", "-show_entries",
         "stream=codec_name", "-of", "csv=p=0", str(path)],
        check=True, capture_output=True, text=True, timeout=60).stdout.strip()
