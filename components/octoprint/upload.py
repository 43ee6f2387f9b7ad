"""`POST /api/files/{local|sdcard}`: a streamed multipart upload (the file part is named
`file`; `path`, `filename`, `select`, `print`, `noOverwrite` form fields), or a folder
(`foldername`, as a form or JSON body).

The body is parsed as it arrives (gateway.transports.files_multipart) and the file's
bytes go straight into an upload session of the files component (`begin_upload`, its
entry point for uploads): the same temp-file writer, checks, metadata extraction and
notifications as Moonraker's upload. Only `path` reaches the session; select/print are
OctoPrint's and are applied here once the file is in place.
"""

from __future__ import annotations

import logging
import urllib.parse
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

import msgspec
import tornado.web

from components.octoprint.core import GCODE_SUFFIXES, Compat
from components.octoprint.files_routes import clean_path
from components.octoprint.web import ApiError, OctoHandler, Reply, Route, is_true
from gateway.errors import ServerError
from gateway.transports.files_multipart import (
    MultipartError,
    MultipartParser,
    PartData,
    PartEnd,
    PartStart,
    boundary_from_content_type,
)

if TYPE_CHECKING:
    from gateway.transports.files_http import UploadSession

log = logging.getLogger(__name__)
MAX_FIELD_SIZE = 64 * 1024


class FolderMaker:
    """`foldername` (+ `path`): a new folder in the gcodes root."""

    def __init__(self, app: Compat) -> None:
        self.app = app

    async def create(self, handler: OctoHandler, fields: dict[str, Any]) -> Reply:
        name = clean_path(str(fields.get("foldername", "")))
        if not name or "/" in name:
            raise ApiError(400, "Invalid folder name")
        parent = clean_path(str(fields.get("path", "")))
        path = f"{parent}/{name}" if parent else name
        call = handler.call_info({}, b"")
        try:
            await self.app.call_method("server.files.get_directory",
                                       {"path": f"gcodes/{path}"}, call.caller)
        except ServerError:
            pass
        else:
            raise ApiError(409, "Folder already exists")
        try:
            await self.app.call_method("server.files.post_directory",
                                       {"path": f"gcodes/{path}"}, call.caller)
        except ServerError as exc:
            raise ApiError(400, exc.message) from None
        refs = {"resource": self.app.file_refs(call.base_url, "local", path)["resource"]}
        body = {"done": True, "folder": {"name": name, "path": path, "origin": "local",
                                         "refs": refs}}
        return Reply(201, body, {"Location": refs["resource"]})


@tornado.web.stream_request_body
class UploadHandler(OctoHandler):
    app: Compat
    session: UploadSession | None = None
    parser: MultipartParser | None = None

    def initialize(self, server: Any, app: Compat, listing: Route) -> None:  # type: ignore[override]
        super().initialize(server)
        self.app = app
        self.listing = listing

    async def get(self, origin: str) -> None:
        if not self._finished:
            await self.run_route(self.listing, self.call_info({"origin": origin}, b""))

    async def prepare(self) -> None:
        super().prepare()
        self.fields: dict[str, str] = {}
        self._error: tuple[int, str] | None = None
        self._part: str | None = None  # "file", a field name, or "" (ignored)
        self._value = bytearray()
        self._plain = bytearray()
        self._has_file = False
        self._done = False
        if self._finished or self.request.method != "POST":
            return
        if self.path_kwargs.get("origin") != "local":
            self.send_error_json(400, "Uploading to the printer's SD card is not supported; "
                                      "upload to local")
            return
        content_type = self.request.headers.get("Content-Type", "")
        if not content_type.lower().startswith("multipart/"):
            return  # a folder: a small JSON or urlencoded body
        try:
            files = self.app.files
            limit = files.max_upload_size
            raw = self.request.headers.get("Content-Length", "")
            length = int(raw) if raw.strip().isdigit() else None
            setter = getattr(self.request.connection, "set_max_body_size", None)
            if setter is not None:
                setter(max(length or 0, limit + 1024 * 1024))
            if length is not None and length > limit:
                raise ApiError(413, "File too large")
            self.parser = MultipartParser(boundary_from_content_type(content_type))
            self.session = files.begin_upload(self.caller(), length)
        except MultipartError as exc:
            self.send_error_json(400, str(exc))
        except (ApiError, ServerError) as exc:
            self.send_error_json(exc.status, exc.message)

    # -- the body ------------------------------------------------------------------------

    def data_received(self, chunk: bytes) -> Awaitable[None] | None:
        if self._finished or self._error is not None:
            return None
        session, parser = self.session, self.parser
        if session is None or parser is None:
            if len(self._plain) + len(chunk) > MAX_FIELD_SIZE:
                self._fail(413, "Request body too large")
            else:
                self._plain += chunk
            return None
        try:
            for event in parser.feed(chunk):
                if type(event) is PartData:
                    self._data(session, event)
                elif type(event) is PartStart:
                    self._start(session, event)
                elif type(event) is PartEnd:
                    if self._part and self._part != "file":
                        self._field(session, self._part, self._value.decode("utf-8", "replace"))
                    self._part = None
            pending = session.drain()
        except Exception as exc:
            self._fail_for(exc)
            return None
        return None if pending is None else self._drained(pending)

    def _data(self, session: UploadSession, event: PartData) -> None:
        if self._part == "file":
            session.write(event.data)
        elif self._part:
            self._value += event.data
            if len(self._value) > MAX_FIELD_SIZE:
                raise MultipartError(f"Form field '{self._part}' too large")

    def _start(self, session: UploadSession, event: PartStart) -> None:
        self._value = bytearray()
        if event.name == "file" and event.filename is not None and not self._has_file:
            self._part = "file"
            self._has_file = True
            name = self.fields.get("filename") or event.filename
            if not name.lower().endswith(GCODE_SUFFIXES):
                raise ApiError(415, "Could not upload file, invalid type")
            session.start_file(name)
        else:
            self._part = "" if event.filename is not None else event.name

    def _field(self, session: UploadSession, name: str, value: str) -> None:
        self.fields[name] = value
        if name == "path":
            session.field("path", clean_path(value))

    async def _drained(self, pending: Awaitable[None]) -> None:
        try:
            await pending
        except Exception as exc:
            self._fail_for(exc)

    def _fail_for(self, exc: BaseException) -> None:
        if isinstance(exc, (ApiError, ServerError)):
            self._fail(exc.status, exc.message)
        elif isinstance(exc, MultipartError):
            self._fail(400, f"File upload parsing failed: {exc}")
        else:
            log.error("OctoPrint upload failed", exc_info=exc)
            self._fail(500, "Could not upload the file")

    def _fail(self, status: int, message: str) -> None:
        """Keep reading (and dropping) the body; answer once it is in."""
        if self._error is None:
            self._error = (status, message)
        if self.session is not None:
            self.session.abort()

    def on_connection_close(self) -> None:
        if self.session is not None and not self._done:
            self.session.abort()
        super().on_connection_close()

    # -- the answer ----------------------------------------------------------------------

    async def post(self, origin: str) -> None:
        if self._finished:
            return
        if self._error is not None:
            self.send_error_json(*self._error)
            return
        try:
            reply = await self._finish_upload()
        except (ApiError, ServerError) as exc:
            if self.session is not None:
                self.session.abort()
            self.send_error_json(exc.status, exc.message)
            return
        except Exception:
            log.exception("OctoPrint upload failed")
            if self.session is not None:
                self.session.abort()
            self.send_error_json(500, "Could not upload the file")
            return
        self.send_reply(reply)

    async def _finish_upload(self) -> Reply:
        if self.parser is None or self.session is None:
            return await FolderMaker(self.app).create(self, self._plain_fields())
        self.parser.close()
        if not self._has_file:
            self.session.abort()
            if self.fields.get("foldername"):
                return await FolderMaker(self.app).create(self, self.fields)
            raise ApiError(400, "No file to upload and no folder to create")
        if is_true(self.fields.get("noOverwrite", "false")):
            self._check_no_overwrite()
        try:
            result = await self.session.complete()
        except ServerError as exc:
            if exc.status == 409:
                raise ApiError(409, "Trying to overwrite file that is currently being "
                                    "printed") from None
            raise
        self._done = True
        path = str(result.get("item", {}).get("path", ""))
        return await self._answer(path)

    def _check_no_overwrite(self) -> None:
        name = self.fields.get("filename", "")
        directory = clean_path(self.fields.get("path", ""))
        if not name:
            return
        rel = f"{directory}/{name}" if directory else name
        try:
            self.app.files.gcode_path(rel)
        except ServerError:
            return
        raise ApiError(409, "File already exists and noOverwrite was set")

    def _plain_fields(self) -> dict[str, Any]:
        body = bytes(self._plain)
        if self.request.headers.get("Content-Type", "").startswith("application/json"):
            try:
                value = msgspec.json.decode(body) if body.strip() else {}
            except (msgspec.DecodeError, UnicodeDecodeError):
                raise ApiError(400, "Malformed JSON body in request") from None
            if not isinstance(value, dict):
                raise ApiError(400, "Malformed JSON body in request")
            fields: dict[str, Any] = value
        else:
            parsed = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
            fields = {k: v[-1] for k, v in parsed.items()}
        if not fields.get("foldername"):
            raise ApiError(400, "No file to upload and no folder to create")
        return fields

    async def _answer(self, path: str) -> Reply:
        app = self.app
        want_select = is_true(self.fields.get("select", "false"))
        want_print = is_true(self.fields.get("print", "false"))
        snap = app.snapshot()
        idle = snap.operational and not snap.active
        selected = printed = False
        sel = app.selection
        if (want_select or want_print) and idle:
            await app.select_local(path)
            selected = True
            if want_print:
                try:
                    await app.print_selection()
                    printed = True
                except ApiError as exc:
                    log.info("OctoPrint upload: print of %s not started: %s", path, exc.message)
        elif sel is not None and sel.origin == "local" and sel.path == path and not snap.active:
            await app.select_local(path)  # the selected file was replaced: new size/analysis
        base = self.call_info({}, b"").base_url
        refs = app.file_refs(base, "local", path)
        name = path.rsplit("/", 1)[-1]
        app.emit("Upload", {"name": name, "path": path, "target": "local",
                            "select": want_select, "print": want_print,
                            "effectiveSelect": selected, "effectivePrint": printed})
        body = {"done": True, "effectiveSelect": selected, "effectivePrint": printed,
                "files": {"local": {"name": name, "display": name, "path": path,
                                    "origin": "local", "refs": refs}}}
        return Reply(201, body, {"Location": refs["resource"]})

