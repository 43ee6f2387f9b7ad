"""A small release server in GitHub's shape: GET /releases lists the releases (newest
first, with assets and sha256 digests), GET /download/<tag>/<asset> serves the zips."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import tornado.httpserver
import tornado.netutil
import tornado.web


def client_zip(version: str, title: str, extra: dict[str, str] | None = None,
               release_info: bool = True) -> bytes:
    """A stand-in web client: index.html naming its version, a script, release_info."""
    files = {"index.html": f"<!doctype html><title>{title}</title><p id=v>{version}</p>\n",
             "assets/app.js": f"window.clientVersion = {json.dumps(version)};\n"}
    if release_info:
        files["release_info.json"] = json.dumps(
            {"project_name": "mainsail", "project_owner": "mainsail-crew", "version": version})
    files.update(extra or {})
    return zip_bytes(files)


def zip_bytes(files: dict[str, str | bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def zip_folder(folder: Path, extra: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(folder).as_posix())
        for name, data in extra.items():
            zf.writestr(name, data)
    return buf.getvalue()


@dataclass
class Asset:
    data: bytes
    digest: str | None = None  # default: the data's real sha256


@dataclass
class ReleaseServer:
    # tag → (prerelease, {asset name: Asset}); listed newest first in insertion order reversed
    releases: list[tuple[str, bool, dict[str, Asset]]] = field(default_factory=list)
    port: int = 0
    downloads: list[str] = field(default_factory=list)
    feed_requests: int = 0
    _server: tornado.httpserver.HTTPServer | None = None

    def add(self, tag: str, assets: dict[str, Asset], prerelease: bool = False) -> None:
        self.releases.insert(0, (tag, prerelease, assets))

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def feed_url(self) -> str:
        return f"{self.base}/releases"

    def feed(self) -> list[dict[str, object]]:
        items = []
        for tag, pre, assets in self.releases:
            items.append({
                "tag_name": tag, "name": tag, "draft": False, "prerelease": pre,
                "assets": [{
                    "name": name, "size": len(asset.data),
                    "digest": asset.digest or "sha256:" + hashlib.sha256(asset.data).hexdigest(),
                    "browser_download_url": f"{self.base}/download/{tag}/{name}",
                } for name, asset in assets.items()],
            })
        return items

    def start(self) -> None:
        owner = self

        class Feed(tornado.web.RequestHandler):
            def get(self) -> None:
                owner.feed_requests += 1
                self.set_header("Content-Type", "application/json")
                self.write(json.dumps(owner.feed()))

        class Download(tornado.web.RequestHandler):
            def get(self, tag: str, name: str) -> None:
                for rtag, _, assets in owner.releases:
                    if rtag == tag and name in assets:
                        owner.downloads.append(f"{tag}/{name}")
                        self.set_header("Content-Type", "application/zip")
                        self.write(assets[name].data)
                        return
                self.send_error(404)

        app = tornado.web.Application([(r"/releases", Feed),
                                       (r"/download/([^/]+)/([^/]+)", Download)])
        sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
        self.port = sockets[0].getsockname()[1]
        self._server = tornado.httpserver.HTTPServer(app)
        self._server.add_sockets(sockets)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            await self._server.close_all_connections()
