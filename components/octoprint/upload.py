"""`POST /api/files/{local|sdcard}`: a streamed multipart upload (the file part is named
`file`; `path`, `filename`, `select`, `print`, `noOverwrite` form fields), or a folder
(`foldername`, as a form or JSON body).

The body is read by the one streaming upload handler (gateway.transports.upload_http);
this module is the OctoPrint route behind it: the file's bytes go straight into an upload
session of the files component (`begin_upload`, its entry point for uploads), with the
same temp-file writer, checks, metadata extraction and notifications as Moonraker's
upload. Only `path` reaches that session; select/print are OctoPrint's and are applied
here once the file is in place.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

from components.octoprint.core import GCODE_SUFFIXES, Compat
from components.octoprint.files_routes import clean_path
from components.octoprint.web import ApiError, is_true
from gateway.errors import ServerError
from gateway.registry import Answer, Response
from gateway.transports.upload_http import UploadStart

if TYPE_CHECKING:
    from gateway.transports.upload_http import UploadSession

log = logging.getLogger(__name__)
DEFAULT_LIMIT = 1024 * 1024 * 1024


class FolderMaker:
    """`foldername` (+ `path`): a new folder in the gcodes root."""

    def __init__(self, app: Compat) -> None:
        self.app = app

    async def create(self, fields: dict[str, Any], start: UploadStart) -> Response:
        name = clean_path(str(fields.get("foldername", "")))
        if not name or "/" in name:
            raise ApiError(400, "Invalid folder name")
        parent = clean_path(str(fields.get("path", "")))
        path = f"{parent}/{name}" if parent else name
        try:
            await self.app.call_method("server.files.get_directory",
                                       {"path": f"gcodes/{path}"}, start.caller)
        except ServerError:
            pass
        else:
            raise ApiError(409, "Folder already exists")
        try:
            await self.app.call_method("server.files.post_directory",
                                       {"path": f"gcodes/{path}"}, start.caller)
        except ServerError as exc:
            raise ApiError(400, exc.message) from None
        refs = {"resource": self.app.file_refs(start.base_url, "local", path)["resource"]}
        body = {"done": True, "folder": {"name": name, "path": path, "origin": "local",
                                         "refs": refs}}
        return Response(201, body, {"Location": refs["resource"]})


def _local_only(start: UploadStart) -> None:
    if start.path_args.get("origin") != "local":
        raise ApiError(400, "Uploading to the printer's SD card is not supported; upload to "
                            "local")


class OctoUploads:
    """The upload route (gateway.transports.upload_http.UploadRoute) of /api/files."""

    answer = Answer.OCTOPRINT

    def __init__(self, app: Compat) -> None:
        self.app = app

    @property
    def max_upload_size(self) -> int:
        try:
            return self.app.files.max_upload_size
        except ApiError:
            return DEFAULT_LIMIT  # begin() says why there is nowhere to upload to

    def begin(self, start: UploadStart) -> OctoUpload:
        _local_only(start)
        inner = self.app.files.begin_upload(start.caller, start.content_length)
        return OctoUpload(self.app, inner, start)

    async def plain(self, fields: dict[str, Any], start: UploadStart) -> Response:
        _local_only(start)
        if not fields.get("foldername"):
            raise ApiError(400, "No file to upload and no folder to create")
        return await FolderMaker(self.app).create(fields, start)


class OctoUpload:
    """One upload: OctoPrint's fields around the files component's session."""

    def __init__(self, app: Compat, inner: UploadSession, start: UploadStart) -> None:
        self.app = app
        self.inner = inner
        self.start = start
        self.fields: dict[str, str] = {}
        self.has_file = False

    def field(self, name: str, value: str) -> None:
        self.fields[name] = value
        if name == "path":
            self.inner.field("path", clean_path(value))

    def start_file(self, filename: str) -> None:
        name = self.fields.get("filename") or filename
        if not name.lower().endswith(GCODE_SUFFIXES):
            raise ApiError(415, "Could not upload file, invalid type")
        self.has_file = True
        self.inner.start_file(name)

    def write(self, data: bytes | memoryview) -> None:
        self.inner.write(data)

    def drain(self) -> Awaitable[None] | None:
        return self.inner.drain()

    def abort(self) -> None:
        self.inner.abort()

    async def complete(self) -> Response:
        if not self.has_file:
            self.inner.abort()
            if self.fields.get("foldername"):
                return await FolderMaker(self.app).create(self.fields, self.start)
            raise ApiError(400, "No file to upload and no folder to create")
        if is_true(self.fields.get("noOverwrite", "false")):
            self._check_no_overwrite()
        try:
            result = await self.inner.complete()
        except ServerError as exc:
            if exc.status == 409:
                raise ApiError(409, "Trying to overwrite file that is currently being "
                                    "printed") from None
            raise
        item = result.get("item") if isinstance(result, dict) else None
        return await self._answer(str(item.get("path", "")) if isinstance(item, dict) else "")

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

    async def _answer(self, path: str) -> Response:
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
        base = self.start.base_url
        refs = app.file_refs(base, "local", path)
        name = path.rsplit("/", 1)[-1]
        app.emit("Upload", {"name": name, "path": path, "target": "local",
                            "select": want_select, "print": want_print,
                            "effectiveSelect": selected, "effectivePrint": printed})
        body = {"done": True, "effectiveSelect": selected, "effectivePrint": printed,
                "files": {"local": {"name": name, "display": name, "path": path,
                                    "origin": "local", "refs": refs}}}
        return Response(201, body, {"Location": refs["resource"]})

