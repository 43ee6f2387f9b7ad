"""A web client upgraded from a local release server: the files served at / change in
one atomic switch (a browser polling all along sees the old or the new client, never an
error), persistent files are kept, a corrupt zip is refused with the old client kept,
and rollback brings the previous one back."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from components.update_manager.config import WebSection
from components.update_manager.releases import pick
from components.update_manager.webclient import install
from tests.harness import RpcError, running_server, wait_for
from tests.update_manager.releaseserver import Asset, ReleaseServer, client_zip


def config(data: Path, feed: str) -> str:
    return f"""
[server]
host: 127.0.0.1
port: 0

[web]
path: {data / 'mainsail'}

[update_manager]
enable_system_updates: False

[update_manager mainsail]
type: web
repo: mainsail-crew/mainsail
path: {data / 'mainsail'}
channel: stable
persistent_files: config.json
releases_url: {feed}
"""


def corrupt(data: bytes) -> bytes:
    """The same zip with bytes in the middle of a member flipped (CRC no longer fits)."""
    middle = len(data) // 3
    return data[:middle] + bytes(b ^ 0xFF for b in data[middle:middle + 16]) + data[middle + 16:]


async def test_web_client_upgrade_switches_atomically_refuses_corrupt_zip_and_rolls_back(
    tmp_path: Path,
) -> None:
    releases = ReleaseServer()
    releases.add("v1.0.0", {"mainsail.zip": Asset(client_zip("v1.0.0", "Client one"))})
    releases.start()
    data = tmp_path / "data"
    live = data / "mainsail"
    try:
        # the first install goes through the same code as scripts/install.sh's
        section = WebSection(type="web", repo="mainsail-crew/mainsail", path=str(live),
                             releases_url=releases.feed_url)
        first = pick(releases.feed(), "stable", "mainsail.zip")
        await install(section, "mainsail", first, lambda _: None)
        (live / "config.json").write_text('{"instancesDB": "moonraker"}')
        releases.add("v2.0.0", {"mainsail.zip": Asset(client_zip("v2.0.0", "Client two"))})
        releases.add("v2.1.0-beta", {"mainsail.zip": Asset(client_zip("v2.1.0-beta", "Beta"))},
                     prerelease=True)

        # a release list other than GitHub's is a source of code: the host policy names it
        policy = tmp_path / "host-policy.conf"
        policy.write_text(f"[update_manager mainsail]\nreleases_url: {releases.feed_url}\n")
        async with running_server(data, config(data, releases.feed_url),
                                  host_policy=policy) as srv:
            page = await srv.http.get("/")
            assert page.status == 200 and b"Client one" in page.body
            ws = await srv.websocket()
            status = await ws.call("machine.update.refresh", {"name": "mainsail"})
            entry = status["version_info"]["mainsail"]
            assert entry["configured_type"] == "web" and entry["is_valid"]
            assert entry["owner"] == "mainsail-crew" and entry["repo_name"] == "mainsail"
            # stable: the pre-release is not offered
            assert entry["version"] == "v1.0.0" and entry["remote_version"] == "v2.0.0"

            seen: list[tuple[int, bytes]] = []
            stop = asyncio.Event()

            async def browse() -> None:
                while not stop.is_set():
                    for path in ("/", "/assets/app.js", "/history"):
                        reply = await srv.http.get(path)
                        seen.append((reply.status, reply.body))

            browser = asyncio.ensure_future(browse())
            try:
                assert await ws.call("machine.update.upgrade", {"name": "mainsail"}) == "ok"
                polled = len(seen)
                await wait_for(lambda: len(seen) >= polled + 6, what="pages after the switch")
            finally:
                stop.set()
                await browser
            assert all(status == 200 for status, _ in seen)
            bodies = {body for _, body in seen}
            assert any(b"Client one" in b for b in bodies) and any(b"Client two" in b
                                                                  for b in bodies)
            for body in bodies:
                assert (b"v1.0.0" in body) != (b"v2.0.0" in body), body
            page = await srv.http.get("/")
            assert b"Client two" in page.body
            assert (live / "config.json").read_text() == '{"instancesDB": "moonraker"}'
            lines = [n["params"][0] for n in ws.notifications
                     if n["method"] == "notify_update_response"]
            assert any(line["message"].startswith("Downloading mainsail:") for line in lines)
            assert lines[-1]["complete"] and lines[-1]["application"] == "mainsail"
            entry = (await ws.call("machine.update.status"))["version_info"]["mainsail"]
            assert entry["version"] == "v2.0.0" and entry["rollback_version"] == "v1.0.0"

            # a corrupt release is refused; the client served stays
            releases.add("v3.0.0", {"mainsail.zip": Asset(corrupt(client_zip(
                "v3.0.0", "Client three", {"big.js": "x" * 50_000})), digest="")})
            await ws.call("machine.update.refresh", {"name": "mainsail"})
            with pytest.raises(RpcError) as failure:
                await ws.call("machine.update.upgrade", {"name": "mainsail"})
            assert "refusing mainsail.zip v3.0.0" in failure.value.message
            assert "installed version is kept" in failure.value.message
            page = await srv.http.get("/")
            assert b"Client two" in page.body
            leftovers = [p.name for p in data.iterdir() if p.name.startswith(".mainsail.")]
            assert leftovers == [".mainsail.previous"]
            entry = (await ws.call("machine.update.status"))["version_info"]["mainsail"]
            assert entry["version"] == "v2.0.0" and "refusing" in entry["last_error"]

            assert await ws.call("machine.update.rollback", {"name": "mainsail"}) == "ok"
            page = await srv.http.get("/")
            assert b"Client one" in page.body
            entry = (await ws.call("machine.update.status"))["version_info"]["mainsail"]
            assert entry["version"] == "v1.0.0" and entry["rollback_version"] == "v2.0.0"
    finally:
        await releases.stop()


async def test_a_release_whose_checksum_differs_from_the_feed_is_refused(tmp_path: Path) -> None:
    releases = ReleaseServer()
    releases.add("v1.0.0", {"mainsail.zip": Asset(client_zip("v1.0.0", "One"),
                                                  digest="sha256:" + "0" * 64)})
    releases.start()
    try:
        section = WebSection(type="web", repo="mainsail-crew/mainsail",
                             path=str(tmp_path / "mainsail"), releases_url=releases.feed_url)
        release = pick(releases.feed(), "stable", "mainsail.zip")
        from components.update_manager.base import UpdateError

        with pytest.raises(UpdateError, match="checksum mismatch"):
            await install(section, "mainsail", release, lambda _: None)
        assert not (tmp_path / "mainsail").exists()
        assert os.listdir(tmp_path) == []
    finally:
        await releases.stop()
