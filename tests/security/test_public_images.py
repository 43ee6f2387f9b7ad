"""Issue 17.8: images are public only as docs/access.md says - `.png`/`.jpg` under
/server/files/gcodes/ (thumbnails in <img> tags) - and nowhere else."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.harness import RunningServer, running_server
from tests.security.conftest import fetch_from, key_headers

CONFIG = """
[server]
host: 127.0.0.1
port: 0

[authorization]
trusted_clients:
  127.0.0.1

[timelapse]
enabled: True
"""
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
async def srv(tmp_path: Path) -> AsyncIterator[RunningServer]:
    data = tmp_path / "data"
    async with running_server(data, CONFIG) as running:
        for folder in ("gcodes/.thumbs", "config", "logs", "timelapse"):
            (data / folder).mkdir(parents=True, exist_ok=True)
        for folder in ("gcodes/.thumbs", "config", "logs", "timelapse"):
            (data / folder / "secret.png").write_bytes(PNG)
            (data / folder / "secret.jpg").write_bytes(PNG)
        yield running


@pytest.mark.parametrize("path", [
    "/server/files/config/secret.png",
    "/server/files/config/secret.jpg",
    "/server/files/logs/secret.png",
    "/server/files/timelapse/secret.jpg",
    "/machine/timelapse/files/secret.jpg",
    "/downloads/timelapse/secret.png",
    "/server/files/gcodes/../config/secret.png",
    "/server/files/gcodes/..%2Fconfig%2Fsecret.png",
])
async def test_images_outside_the_gcodes_root_need_access(srv: RunningServer,
                                                          path: str) -> None:
    reply = await fetch_from(srv, path)
    assert reply.status in (401, 403), (path, reply.status)
    assert PNG not in reply.body
    # with credentials they are there (the refusal is about access, not existence)
    if ".." not in path:
        assert (await fetch_from(srv, path, headers=key_headers(srv))).body == PNG


async def test_gcode_thumbnails_stay_public(srv: RunningServer) -> None:
    for path in ("/server/files/gcodes/.thumbs/secret.png",
                 "/server/files/gcodes/.thumbs/secret.jpg"):
        reply = await fetch_from(srv, path)
        assert reply.status == 200 and reply.body == PNG
