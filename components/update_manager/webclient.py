"""Web clients (Mainsail, Fluidd): Moonraker's `web` type.

The installed version is in the folder's release_info.json, the latest in the project's
release feed. An upgrade downloads the release zip, checks it (checksum when the feed
gives one, every file's CRC, safe paths, an index.html), unpacks it beside the live
folder and swaps it in atomically; the old folder is kept for a rollback. The same code
installs the first version for scripts/install.sh (`webinstall.py`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import IO, Any

import msgspec
import tornado.httpclient

from components.update_manager import webarchive
from components.update_manager.base import Report, UpdateError
from components.update_manager.config import WebSection
from components.update_manager.releases import FeedError, Release, pick

log = logging.getLogger(__name__)

NAMESPACE = "update_manager"
USER_AGENT = "Skysail-UpdateManager"
MAX_DOWNLOAD = 256 * 1024 * 1024
FEED_TIMEOUT = 30.0
DOWNLOAD_TIMEOUT = 900.0


async def fetch_feed(url: str) -> Any:
    client = tornado.httpclient.AsyncHTTPClient()
    try:
        reply = await client.fetch(url, headers={"User-Agent": USER_AGENT,
                                                 "Accept": "application/vnd.github+json"},
                                   request_timeout=FEED_TIMEOUT, connect_timeout=10)
    except tornado.httpclient.HTTPClientError as exc:
        raise UpdateError(f"release feed {url}: HTTP {exc.code}") from None
    except (OSError, TimeoutError) as exc:
        raise UpdateError(f"release feed {url}: {exc}") from None
    try:
        return msgspec.json.decode(reply.body)
    except msgspec.DecodeError:
        raise UpdateError(f"release feed {url}: not JSON") from None


async def latest(section: WebSection, name: str) -> Release:
    feed = await fetch_feed(section.feed_url())
    try:
        return pick(feed, section.channel, f"{name}.zip")
    except FeedError as exc:
        raise UpdateError(f"{name}: {exc}") from None


async def download(url: str, dest: IO[bytes], name: str, report: Report,
                   expected_size: int | None) -> int:
    """Stream `url` into `dest`, with progress lines; returns the byte count."""
    received = 0
    total = expected_size or 0
    last_step = -1

    def on_header(line: str) -> None:
        nonlocal total
        if line.lower().startswith("content-length:"):
            with contextlib.suppress(ValueError):
                total = int(line.split(":", 1)[1].strip())

    def on_chunk(chunk: bytes) -> None:
        nonlocal received, last_step
        received += len(chunk)
        if received > MAX_DOWNLOAD:
            raise UpdateError(f"{name}: the download is larger than {MAX_DOWNLOAD} bytes")
        dest.write(chunk)
        if total:
            step = min(100, received * 100 // total) // 10
            if step != last_step:
                last_step = step
                report(f"Downloading {name}: {received // 1024} KiB / {total // 1024} KiB "
                       f"[{step * 10}%]")

    client = tornado.httpclient.AsyncHTTPClient()
    try:
        await client.fetch(url, headers={"User-Agent": USER_AGENT,
                                         "Accept": "application/octet-stream"},
                           streaming_callback=on_chunk, header_callback=on_header,
                           request_timeout=DOWNLOAD_TIMEOUT, connect_timeout=10,
                           follow_redirects=True, max_redirects=5)
    except tornado.httpclient.HTTPClientError as exc:
        raise UpdateError(f"{name}: download failed, HTTP {exc.code}") from None
    except (OSError, TimeoutError) as exc:
        raise UpdateError(f"{name}: download failed: {exc}") from None
    return received


async def install(section: WebSection, name: str, release: Release, report: Report) -> None:
    """Download, check, unpack and swap in `release` at section.path."""
    live = live_path(section)
    parent = live.parent
    previous = previous_folder(live)

    def make_temp() -> tuple[int, str]:
        parent.mkdir(parents=True, exist_ok=True)
        return tempfile.mkstemp(prefix=f".{live.name}.download-", suffix=".zip", dir=parent)

    fd, tmp_name = await asyncio.to_thread(make_temp)
    tmp = Path(tmp_name)
    staging = parent / f".{live.name}.new-{os.getpid()}-{int(time.time())}"
    try:
        with os.fdopen(fd, "wb") as out:
            size = await download(release.asset_url, out, name, report, release.size)
        if release.size is not None and size != release.size:
            raise UpdateError(f"{name}: downloaded {size} bytes, the release lists "
                              f"{release.size}")
        report(f"Checking {release.asset_name} ({size // 1024} KiB)")
        try:
            prefix = await asyncio.to_thread(webarchive.check, tmp, release.digest)
        except webarchive.ArchiveError as exc:
            raise UpdateError(f"{name}: refusing {release.asset_name} {release.tag}: "
                              f"{exc}; the installed version is kept") from None
        report(f"Unpacking {name} {release.tag}")

        def place() -> None:
            webarchive.unpack(tmp, prefix, staging)
            webarchive.write_release_info(staging, section.owner, section.repo_name,
                                          release.tag)
            if live.is_dir():
                webarchive.keep_files(live, staging, section.persistent_files)
            webarchive.swap_in(staging, live, previous)

        try:
            await asyncio.to_thread(place)
        except OSError as exc:
            raise UpdateError(f"{name}: cannot unpack into {parent}: {exc}") from None
        report(f"{name} {release.tag} installed in {live}")
    finally:
        await asyncio.to_thread(tmp.unlink, True)
        await asyncio.to_thread(shutil.rmtree, staging, True)


def live_path(section: WebSection) -> Path:
    return Path(section.path).expanduser()


def previous_folder(live: Path) -> Path:
    return live.parent / f".{live.name}.previous"


class WebUpdater:
    configured_type = "web"

    def __init__(self, name: str, section: WebSection, db: Any) -> None:
        self.name = name
        self.section = section
        self.db = db
        self.path = live_path(section)
        self.last_refresh = 0.0
        self.restart_argv: list[str] | None = None
        self.remote: Release | None = None
        self.last_error = ""

    async def initialize(self) -> None:
        try:
            saved = await self.db.get_item(NAMESPACE, self.name)
        except Exception:
            saved = None
        if isinstance(saved, dict):
            self.last_refresh = float(saved.get("last_refresh", 0.0))
            remote = saved.get("remote")
            if isinstance(remote, dict):
                with contextlib.suppress(KeyError, TypeError, ValueError):
                    self.remote = Release.from_dict(remote)

    async def _save(self) -> None:
        await self.db.insert_item(NAMESPACE, self.name, {
            "last_refresh": self.last_refresh,
            "remote": self.remote.to_dict() if self.remote else None})

    @property
    def version(self) -> str:
        return str(webarchive.read_release_info(self.path).get("version") or "?")

    async def refresh(self) -> None:
        self.last_refresh = time.time()
        try:
            self.remote = await latest(self.section, self.name)
            self.last_error = ""
        except UpdateError as exc:
            self.last_error = str(exc)
            raise
        finally:
            await self._save()

    def status(self) -> dict[str, Any]:
        info = webarchive.read_release_info(self.path)
        warnings: list[str] = []
        anomalies: list[str] = []
        if not self.path.is_dir():
            anomalies.append(f"{self.name} is not installed at {self.path}")
        elif not (self.path / "index.html").is_file():
            warnings.append(f"{self.path} holds no index.html")
        elif not info:
            anomalies.append(f"{self.path} has no {webarchive.RELEASE_INFO}")
        previous = webarchive.read_release_info(previous_folder(self.path))
        return {
            "name": self.name,
            "configured_type": "web",
            "channel": self.section.channel,
            "channel_invalid": False,
            "debug_enabled": False,
            "owner": self.section.owner,
            "repo_name": self.section.repo_name,
            "version": str(info.get("version") or "?"),
            "remote_version": self.remote.tag if self.remote else "?",
            "rollback_version": str(previous.get("version") or info.get("version") or "?"),
            "last_error": self.last_error,
            "is_valid": not warnings,
            "info_tags": list(self.section.info_tags),
            "warnings": warnings,
            "anomalies": anomalies if self.section.report_anomalies else [],
        }

    async def upgrade(self, report: Report) -> None:
        if self.remote is None:
            report(f"Checking the {self.name} releases")
            await self.refresh()
        assert self.remote is not None
        current = self.version
        if current == self.remote.tag:
            report(f"{self.name} is already up to date ({current})")
            return
        report(f"Updating {self.name} from {current} to {self.remote.tag}")
        try:
            await install(self.section, self.name, self.remote, report)
        except UpdateError as exc:
            self.last_error = str(exc)
            raise
        self.last_error = ""

    async def rollback(self, report: Report) -> None:
        previous = previous_folder(self.path)
        version = webarchive.read_release_info(previous).get("version", "?")
        if not previous.is_dir():
            raise UpdateError(f"{self.name}: no previous version kept")
        report(f"Rolling back {self.name} to {version}")
        try:
            await asyncio.to_thread(webarchive.swap_back, self.path, previous)
        except (OSError, webarchive.ArchiveError) as exc:
            raise UpdateError(f"{self.name}: rollback failed: {exc}") from None
        report(f"{self.name} rolled back to {version}")
