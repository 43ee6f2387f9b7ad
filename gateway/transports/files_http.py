"""HTTP routes the method table cannot carry: file downloads, and the files service's
upload route.

`POST /server/files/upload` is the streaming upload handler (upload_http) with
`FilesUploads` as its route: form fields, the file name and the file's bytes go into an
`UploadSession` obtained from the files service; `GET|HEAD|DELETE
/server/files/{root}/{path}` serve and delete files. The files service implements
`FilesService`: this module never imports a component.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import mimetypes
import os
import re
import urllib.parse
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import msgspec
import tornado.iostream
import tornado.web

from gateway.errors import BadRequest, ServerError
from gateway.registry import Answer, Response
from gateway.request import Caller, Transport
from gateway.transports.http import JSON_TYPE, BaseHandler
from gateway.transports.upload_http import UploadSession, UploadStart

if TYPE_CHECKING:
    from gateway.transports.host import TransportHost

__all__ = ["FileHandler", "FilesService", "FilesUploads", "LegacyLogHandler", "UploadSession"]

log = logging.getLogger(__name__)
_encode = msgspec.json.Encoder().encode

MAX_FIELD_SIZE = 64 * 1024
READ_CHUNK = 1024 * 1024
# thumbnails load in <img> tags, which carry no credentials (as Moonraker)
PUBLIC_SUFFIXES = (".png", ".jpg")
PUBLIC_ROOT = "gcodes"
_TEXT_SUFFIXES = {".gcode", ".g", ".gco", ".nc", ".cfg", ".conf", ".log", ".txt", ".md",
                  ".ini", ".bkp", ".old", ".sh", ".py", ".csv"}
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class FilesService(Protocol):
    @property
    def max_upload_size(self) -> int:
        """Bytes a request body may have."""

    def begin_upload(self, caller: Caller, content_length: int | None) -> UploadSession: ...

    def download_path(self, root: str, path: str) -> Path:
        """The disk path of an existing file (raises ServerError otherwise)."""

    async def delete_file(self, request_path: str) -> dict[str, object]: ...


def content_type_for(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in _TEXT_SUFFIXES:
        return "text/plain; charset=utf-8"
    if suffix == ".json":
        return "application/json"
    guessed, _ = mimetypes.guess_type(path.name, strict=False)
    return guessed or "application/octet-stream"


def parse_range(header: str, size: int) -> tuple[int, int] | bool | None:
    """A single byte range -> (start, end exclusive); None to ignore the header
    (malformed or several ranges: RFC 9110 allows serving the whole file);
    False when it cannot be satisfied (416)."""
    match = _RANGE.match(header.strip())
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # suffix: the last N bytes
        length = int(last)
        if length == 0:
            return False
        return max(0, size - length), size
    start = int(first)
    end = size if not last else int(last) + 1
    if last and int(last) < start:
        return None
    if start >= size:
        return False
    return start, min(end, size)


def _attachment(name: str) -> str:
    ascii_name = name.encode("ascii", "replace").decode().replace('"', '\\"')
    return (f'attachment; filename="{ascii_name}"; '
            f"filename*=UTF-8''{urllib.parse.quote(name, encoding='utf-8')}")


class _FilesHandler(BaseHandler):
    files: FilesService

    def initialize(self, server: TransportHost, files: FilesService) -> None:  # type: ignore[override]
        super().initialize(server)
        self.files = files

    def fail(self, status: int, message: str) -> None:
        if not self._finished:
            self.clear_header("Content-Disposition")
            self.clear_header("Content-Range")
            self.send_error_json(status, message)

    def caller_info(self) -> Caller:
        return Caller(ip=self.request.remote_ip or "", transport=Transport.HTTP, user=self.user)


class FilesUploads:
    """`POST /server/files/upload` (the streaming upload handler's route): the files
    service's upload sessions, answered as Moonraker does."""

    answer = Answer.MOONRAKER

    def __init__(self, files: FilesService) -> None:
        self.files = files

    @property
    def max_upload_size(self) -> int:
        return self.files.max_upload_size

    def begin(self, start: UploadStart) -> UploadSession:
        return self.files.begin_upload(start.caller, start.content_length)

    async def plain(self, fields: dict[str, object], start: UploadStart) -> Response:
        raise BadRequest("Content-Type must be multipart/form-data")


class FileHandler(_FilesHandler):
    """GET/HEAD (download with Range, ETag, If-Modified-Since) and DELETE.

    Route kwargs: `root` serves that root whatever the URL's root group says (OctoPrint's
    /downloads/files/local is the gcodes root); `deletable=False` refuses DELETE."""

    fixed_root: str | None = None
    deletable = True

    def initialize(self, server: TransportHost, files: FilesService,  # type: ignore[override]
                   root: str | None = None, deletable: bool = True) -> None:
        super().initialize(server, files)
        self.fixed_root = root
        self.deletable = deletable

    def prepare(self) -> None:
        path = self.path_kwargs.get("path", "")
        # thumbnails of G-code files only (<img> tags cannot send credentials); images in
        # other roots (config, logs, timelapse) and other download routes need access
        if (self.request.method in ("GET", "HEAD")
                and self.path_kwargs.get("root") == PUBLIC_ROOT
                and self.request.path.startswith(f"/server/files/{PUBLIC_ROOT}/")
                and path.lower().endswith(PUBLIC_SUFFIXES)):
            self.public = True
        super().prepare()

    async def get(self, root: str, path: str) -> None:
        await self._serve(self.fixed_root or root, path, body=True)

    async def head(self, root: str, path: str) -> None:
        await self._serve(self.fixed_root or root, path, body=False)

    async def delete(self, root: str, path: str) -> None:
        if not self.deletable:
            self.send_error_json(405, "Method Not Allowed")
            return
        try:
            result = await self.files.delete_file(f"{root}/{path}")
        except ServerError as exc:
            self.fail(exc.status, exc.message)
            return
        self.set_header("Content-Type", JSON_TYPE)
        self.finish(_encode({"result": result}))

    async def _serve(self, root: str, path: str, body: bool) -> None:
        try:
            disk_path = self.files.download_path(root, path)
            st = os.stat(disk_path)
        except ServerError as exc:
            self.fail(exc.status, exc.message)
            return
        except OSError:
            self.fail(404, f"File not found: {root}/{path}")
            return
        size = st.st_size
        etag = f'"{st.st_size:x}-{st.st_mtime_ns:x}"'
        self.set_header("ETag", etag)
        self.set_header("Last-Modified", email.utils.formatdate(st.st_mtime, usegmt=True))
        self.set_header("Accept-Ranges", "bytes")
        self.set_header("Cache-Control", "no-cache")
        if self._not_modified(etag, st.st_mtime):
            self.set_status(304)
            self.finish()
            return
        self.set_header("Content-Type", content_type_for(disk_path))
        self.set_header("Content-Disposition", _attachment(disk_path.name))
        start, end = 0, size
        range_header = self.request.headers.get("Range")
        if range_header and self._range_applies(etag, st.st_mtime):
            wanted = parse_range(range_header, size)
            if wanted is False:
                self.clear_header("Content-Disposition")
                self.set_status(416)
                self.set_header("Content-Type", "text/plain")
                self.set_header("Content-Range", f"bytes */{size}")
                self.finish()
                return
            if isinstance(wanted, tuple) and wanted != (0, size):
                start, end = wanted
                self.set_status(206)
                self.set_header("Content-Range", f"bytes {start}-{end - 1}/{size}")
        self.set_header("Content-Length", str(end - start))
        if not body:
            self.finish()
            return
        await self._send(disk_path, start, end)

    def _not_modified(self, etag: str, mtime: float) -> bool:
        inm = self.request.headers.get("If-None-Match")
        if inm is not None:
            tags = [t.strip().removeprefix("W/") for t in inm.split(",")]
            return "*" in tags or etag in tags
        ims = self.request.headers.get("If-Modified-Since")
        if ims:
            try:
                since = email.utils.parsedate_to_datetime(ims).timestamp()
            except (TypeError, ValueError):
                return False
            return int(mtime) <= since
        return False

    def _range_applies(self, etag: str, mtime: float) -> bool:
        """If-Range: the range holds only while the file is unchanged."""
        if_range = self.request.headers.get("If-Range")
        if not if_range:
            return True
        if if_range.startswith('"') or if_range.startswith("W/"):
            return if_range == etag
        try:
            return int(mtime) <= email.utils.parsedate_to_datetime(if_range).timestamp()
        except (TypeError, ValueError):
            return False

    async def _send(self, path: Path, start: int, end: int) -> None:
        loop = asyncio.get_running_loop()
        try:
            f = await loop.run_in_executor(None, open, path, "rb")
        except OSError:
            self.fail(404, f"File not found: {path.name}")
            return
        try:
            f.seek(start)
            remaining = end - start
            while remaining > 0:
                chunk = await loop.run_in_executor(None, f.read, min(READ_CHUNK, remaining))
                if not chunk:
                    break
                remaining -= len(chunk)
                self.write(chunk)
                await self.flush()
            self.finish()
        except tornado.iostream.StreamClosedError:
            return
        finally:
            f.close()


class LegacyLogHandler(FileHandler):
    """`/server/files/moonraker.log` and `/server/files/klippy.log`, the paths Mainsail's
    shutdown card and Fluidd's system page link to. Skysail has one log: the printer link
    logs into it, so both names serve it. (The route's two groups fill root and path.)"""

    async def get(self, root: str, path: str) -> None:
        await self._serve("logs", "moonraker.log", body=True)

    async def head(self, root: str, path: str) -> None:
        await self._serve("logs", "moonraker.log", body=False)

    async def delete(self, root: str, path: str) -> None:
        self.send_error_json(405, "Method Not Allowed")
