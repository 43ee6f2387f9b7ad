"""HTTP routes the method table cannot carry: streaming uploads and file downloads.

`POST /server/files/upload` parses multipart/form-data as it arrives (files_multipart)
and pushes plain data - form fields, the file name, the file's bytes - into an
`UploadSession` obtained from the files service; `GET|HEAD|DELETE
/server/files/{root}/{path}` serve and delete files. The files service implements
`FilesService`: this module never imports a component.
"""

from __future__ import annotations

import asyncio
import email.utils
import errno
import logging
import mimetypes
import os
import re
import urllib.parse
from collections.abc import Awaitable
from pathlib import Path
from typing import Any, Protocol

import msgspec
import tornado.iostream
import tornado.web

from gateway.errors import ServerError
from gateway.request import Caller, Transport
from gateway.transports.files_multipart import (
    MultipartError,
    MultipartParser,
    PartData,
    PartEnd,
    PartStart,
    boundary_from_content_type,
)
from gateway.transports.http import JSON_TYPE, BaseHandler

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


class UploadSession(Protocol):
    """One upload, fed by the handler in the order the body arrives."""

    def field(self, name: str, value: str) -> None: ...

    def start_file(self, filename: str) -> None: ...

    def write(self, data: bytes | memoryview) -> None: ...

    def drain(self) -> Awaitable[None] | None:
        """None to go on reading, or an awaitable to wait for (flow control)."""

    async def complete(self) -> dict[str, Any]:
        """The body is complete: check, move into place, answer (the 201 body).
        On error the session has cleaned up after itself."""

    def abort(self) -> None:
        """The upload failed or the client went away: leave nothing behind."""


class FilesService(Protocol):
    @property
    def max_upload_size(self) -> int:
        """Bytes a request body may have."""

    def begin_upload(self, caller: Caller, content_length: int | None) -> UploadSession: ...

    def download_path(self, root: str, path: str) -> Path:
        """The disk path of an existing file (raises ServerError otherwise)."""

    async def delete_file(self, request_path: str) -> dict[str, Any]: ...


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

    def initialize(self, server: Any, files: FilesService) -> None:  # type: ignore[override]
        super().initialize(server)
        self.files = files

    def fail(self, status: int, message: str) -> None:
        if not self._finished:
            self.clear_header("Content-Disposition")
            self.clear_header("Content-Range")
            self.send_error_json(status, message)

    def caller_info(self) -> Caller:
        return Caller(ip=self.request.remote_ip or "", transport=Transport.HTTP, user=self.user)


@tornado.web.stream_request_body
class FileUploadHandler(_FilesHandler):
    session: UploadSession | None = None
    parser: MultipartParser | None = None

    async def prepare(self) -> None:
        super().prepare()
        if self._finished or self.request.method != "POST":
            return
        self._received = 0
        self._failed = False
        self._error = (500, "Unable to save file")
        self._done = False
        self._part: str | None = None  # "file", a field name, or "" (ignored part)
        self._value = bytearray()
        limit = self.files.max_upload_size
        conn = self.request.connection
        length: int | None = None
        raw_length = self.request.headers.get("Content-Length")
        if raw_length is not None and raw_length.strip().isdigit():
            length = int(raw_length)
        # our own count answers 413 (Tornado's limit would only send a bare 400); for a
        # length announced too big Tornado closes the connection once the 413 is sent
        setter = getattr(conn, "set_max_body_size", None)
        if setter is not None:
            setter(max(length or 0, limit + 1024 * 1024))
        if length is not None and length > limit:
            self.fail(413, f"File too large: the upload exceeds max_upload_size "
                           f"({limit // (1024 * 1024)} MiB)")
            return
        try:
            boundary = boundary_from_content_type(self.request.headers.get("Content-Type", ""))
            self.parser = MultipartParser(boundary)
            self.session = self.files.begin_upload(self.caller_info(), length)
        except MultipartError as exc:
            self.fail(400, str(exc))
        except ServerError as exc:
            self.fail(exc.status, exc.message)

    def data_received(self, chunk: bytes) -> Awaitable[None] | None:
        session, parser = self.session, self.parser
        if session is None or parser is None or self._failed:
            return None
        self._received += len(chunk)
        if self._received > self.files.max_upload_size:
            # answer now and drop the connection: reading on would be unbounded
            self._abort(413, "File too large: the upload exceeds max_upload_size")
            self.fail(413, "File too large: the upload exceeds max_upload_size")
            return None
        try:
            for event in parser.feed(chunk):
                if type(event) is PartData:
                    if self._part == "file":
                        session.write(event.data)
                    elif self._part:
                        self._value += event.data
                        if len(self._value) > MAX_FIELD_SIZE:
                            raise MultipartError(f"Form field '{self._part}' too large")
                elif type(event) is PartStart:
                    self._start_part(session, event)
                elif type(event) is PartEnd:
                    if self._part and self._part != "file":
                        session.field(self._part, self._value.decode("utf-8", "replace"))
                    self._part = None
            pending = session.drain()
        except Exception as exc:
            self._abort_for(exc)
            return None
        if pending is None:
            return None
        return self._drained(pending)

    def _start_part(self, session: UploadSession, event: PartStart) -> None:
        self._value = bytearray()
        if event.name == "file" and event.filename is not None:
            self._part = "file"
            session.start_file(event.filename)
        elif event.filename is not None:
            self._part = ""  # another file part: not ours to store
        else:
            self._part = event.name

    async def _drained(self, pending: Awaitable[None]) -> None:
        try:
            await pending
        except Exception as exc:
            self._abort_for(exc)

    def _abort_for(self, exc: BaseException) -> None:
        if isinstance(exc, MultipartError):
            self._abort(400, f"File Upload Parsing Failed: {exc}")
        elif isinstance(exc, ServerError):
            self._abort(exc.status, exc.message)
        elif isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            self._abort(507, "Insufficient disk space for the upload")
        else:
            log.error("upload failed", exc_info=exc)
            self._abort(500, "Unable to save file")

    def _abort(self, status: int, message: str) -> None:
        """Throw the upload away; the rest of the body is read and dropped, and the
        error is answered once it is in (a reply before that would reach the client
        as a connection reset while it is still sending)."""
        if not self._failed:
            self._failed = True
            self._error = (status, message)
        if self.session is not None:
            self.session.abort()

    async def post(self) -> None:
        if self._finished or self.session is None or self.parser is None:
            return
        if self._failed:
            self.fail(*self._error)
            return
        try:
            self.parser.close()
            result = await self.session.complete()
        except Exception as exc:
            self._abort_for(exc)
            self.fail(*self._error)
            return
        self._done = True
        item = result.get("item", {})
        root, path = item.get("root"), item.get("path")
        if isinstance(root, str) and isinstance(path, str):
            quoted = "/".join(urllib.parse.quote(p) for p in path.split("/"))
            self.set_header("Location",
                            f"{self.request.protocol}://{self.request.host}"
                            f"/server/files/{root}/{quoted}")
        self.set_status(201)
        self.set_header("Content-Type", JSON_TYPE)
        self.finish(_encode(result))

    def on_connection_close(self) -> None:
        # the client went away mid-body: nothing of the upload may remain
        if self.session is not None and not self._done:
            self._failed = True
            self.session.abort()
        super().on_connection_close()


class FileHandler(_FilesHandler):
    """GET/HEAD (download with Range, ETag, If-Modified-Since) and DELETE."""

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
        await self._serve(root, path, body=True)

    async def head(self, root: str, path: str) -> None:
        await self._serve(root, path, body=False)

    async def delete(self, root: str, path: str) -> None:
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
