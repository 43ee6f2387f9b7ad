"""Streaming uploads: the one Tornado handler that reads a large request body.

A multipart/form-data body is parsed as it arrives (files_multipart) and pushed, as plain
data - form fields, the file's name, its bytes - into an `UploadSession` that an
`UploadRoute` (the files component's, OctoPrint's) begins for each request. Access is
decided in `prepare`, from the headers, before a byte of the body is read. Whatever
fails is answered in the route's shape (Moonraker's or OctoPrint's error body) by one
error mapping.
"""

from __future__ import annotations

import errno
import logging
import urllib.parse
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, Protocol

import msgspec
import tornado.web

from gateway.errors import BadRequest, ServerError
from gateway.registry import Answer, Response
from gateway.request import Caller, Transport
from gateway.transports.body import body_arguments
from gateway.transports.files_multipart import (
    MultipartError,
    MultipartParser,
    PartData,
    PartEnd,
    PartStart,
    boundary_from_content_type,
)
from gateway.transports.http import JSON_TYPE, BaseHandler, error_body
from gateway.transports.http_door import NO_PERMISSION, OCTOPRINT_JSON

log = logging.getLogger(__name__)
_encode = msgspec.json.Encoder().encode

MAX_FIELD_SIZE = 64 * 1024


@dataclass(slots=True)
class UploadStart:
    """What an upload route knows of the request when the session begins."""

    caller: Caller
    content_length: int | None
    path_args: dict[str, str]
    base_url: str


class UploadSession(Protocol):
    """One upload, fed in the order the body arrives."""

    def field(self, name: str, value: str) -> None: ...

    def start_file(self, filename: str) -> None:
        """The file part begins (raise to refuse it, e.g. 415 for its type)."""

    def write(self, data: bytes | memoryview) -> None: ...

    def drain(self) -> Awaitable[None] | None:
        """None to go on reading, or an awaitable to wait for (flow control)."""

    async def complete(self) -> dict[str, object] | Response:
        """The body is complete: check, move into place, answer. A dict is Moonraker's
        201 body (its `item` gives the Location). On error the session cleans up."""

    def abort(self) -> None:
        """The upload failed or the client went away: leave nothing behind."""


class UploadRoute(Protocol):
    @property
    def answer(self) -> Answer:
        """The shape of the answers (Moonraker's or OctoPrint's errors)."""

    @property
    def max_upload_size(self) -> int:
        """Bytes a request body may have."""

    def begin(self, start: UploadStart) -> UploadSession:
        """A multipart upload begins (raise ServerError to refuse it)."""

    async def plain(self, fields: dict[str, object], start: UploadStart) -> Response:
        """A small body that is not multipart (OctoPrint's folder creation); raise
        BadRequest where the route takes only uploads."""


@tornado.web.stream_request_body
class UploadHandler(BaseHandler):
    route: UploadRoute
    session: UploadSession | None = None
    parser: MultipartParser | None = None

    def initialize(self, server: Any, route: UploadRoute) -> None:  # type: ignore[override]
        super().initialize(server)
        self.route = route

    async def prepare(self) -> None:
        super().prepare()
        self._received = 0
        self._failed: tuple[int, str] | None = None
        self._done = False
        self._part: str | None = None  # "file", a field name, or "" (an ignored part)
        self._has_file = False
        self._value = bytearray()
        self._plain: bytearray | None = None
        if self._finished or self.request.method != "POST":
            return
        limit = self.route.max_upload_size
        raw_length = self.request.headers.get("Content-Length", "").strip()
        length = int(raw_length) if raw_length.isdigit() else None
        # our own count answers 413 (Tornado's limit would only close the connection)
        setter = getattr(self.request.connection, "set_max_body_size", None)
        if setter is not None:
            setter(max(length or 0, limit + 1024 * 1024))
        if length is not None and length > limit:
            self.fail(413, f"File too large: the upload exceeds max_upload_size "
                           f"({limit // (1024 * 1024)} MiB)")
            return
        content_type = self.request.headers.get("Content-Type", "")
        try:
            if not content_type.lower().startswith("multipart/"):
                self._plain = bytearray()
                return
            self.parser = MultipartParser(boundary_from_content_type(content_type))
            self.session = self.route.begin(self.start_info(length))
        except Exception as exc:
            self.fail(*self.error_for(exc))

    def start_info(self, length: int | None = None) -> UploadStart:
        return UploadStart(
            caller=Caller(ip=self.request.remote_ip or "", transport=Transport.HTTP,
                          user=self.user),
            content_length=length,
            path_args=dict(self.path_kwargs),
            base_url=f"{self.request.protocol}://{self.request.host}",
        )

    # -- the body ----------------------------------------------------------------------

    def data_received(self, chunk: bytes) -> Awaitable[None] | None:
        if self._finished or self._failed is not None:
            return None
        self._received += len(chunk)
        if self._plain is not None:
            if len(self._plain) + len(chunk) > MAX_FIELD_SIZE:
                self._abort(413, "Request body too large")
            else:
                self._plain += chunk
            return None
        session, parser = self.session, self.parser
        if session is None or parser is None:
            return None
        if self._received > self.route.max_upload_size:
            # answer now and drop the connection: reading on would be unbounded
            self._abort(413, "File too large: the upload exceeds max_upload_size")
            self.fail(413, "File too large: the upload exceeds max_upload_size")
            return None
        try:
            for event in parser.feed(chunk):
                if type(event) is PartData:
                    self._data(session, event)
                elif type(event) is PartStart:
                    self._start_part(session, event)
                elif type(event) is PartEnd:
                    if self._part and self._part != "file":
                        session.field(self._part, self._value.decode("utf-8", "replace"))
                    self._part = None
            pending = session.drain()
        except Exception as exc:
            self._abort(*self.error_for(exc))
            return None
        return None if pending is None else self._drained(pending)

    def _data(self, session: UploadSession, event: PartData) -> None:
        if self._part == "file":
            session.write(event.data)
        elif self._part:
            self._value += event.data
            if len(self._value) > MAX_FIELD_SIZE:
                raise MultipartError(f"Form field '{self._part}' too large")

    def _start_part(self, session: UploadSession, event: PartStart) -> None:
        self._value = bytearray()
        if event.name == "file" and event.filename is not None and not self._has_file:
            self._part = "file"
            self._has_file = True
            session.start_file(event.filename)
        elif event.filename is not None:
            self._part = ""  # another file part: not ours to store
        else:
            self._part = event.name

    async def _drained(self, pending: Awaitable[None]) -> None:
        try:
            await pending
        except Exception as exc:
            self._abort(*self.error_for(exc))

    def error_for(self, exc: BaseException) -> tuple[int, str]:
        """The one mapping of upload failures to answers."""
        if isinstance(exc, ServerError):
            return exc.status, exc.message
        if isinstance(exc, MultipartError):
            return 400, f"File Upload Parsing Failed: {exc}"
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return 507, "Insufficient disk space for the upload"
        log.error("upload failed", exc_info=exc)
        return 500, "Unable to save file"

    def _abort(self, status: int, message: str) -> None:
        """Throw the upload away; the rest of the body is read and dropped, and the
        error is answered once it is in (a reply before that would reach the client
        as a connection reset while it is still sending)."""
        if self._failed is None:
            self._failed = (status, message)
        if self.session is not None:
            self.session.abort()

    # -- the answer ----------------------------------------------------------------------

    async def post(self, *args: str, **kwargs: str) -> None:
        if self._finished:
            return
        if self._failed is not None:
            self.fail(*self._failed)
            return
        try:
            if self._plain is not None:
                fields = body_arguments(self.request.headers.get("Content-Type", ""),
                                        bytes(self._plain))
                self.send(await self.route.plain(fields, self.start_info()))
                return
            if self.session is None or self.parser is None:
                raise BadRequest("Content-Type must be multipart/form-data")
            self.parser.close()
            result = await self.session.complete()
        except Exception as exc:
            if self.session is not None:
                self.session.abort()
            self.fail(*self.error_for(exc))
            return
        self._done = True
        self.send(result if isinstance(result, Response) else self._created(result))

    def _created(self, result: dict[str, object]) -> Response:
        """Moonraker's 201 for a stored file, with its Location."""
        headers: dict[str, str] = {}
        item = result.get("item")
        root, path = (item.get("root"), item.get("path")) if isinstance(item, dict) else (None,
                                                                                        None)
        if isinstance(root, str) and isinstance(path, str):
            quoted = "/".join(urllib.parse.quote(p) for p in path.split("/"))
            headers["Location"] = (f"{self.request.protocol}://{self.request.host}"
                                   f"/server/files/{root}/{quoted}")
        return Response(201, result, headers)

    def send(self, reply: Response) -> None:
        self.set_status(reply.status)
        for name, value in reply.headers.items():
            self.set_header(name, value)
        self.set_header("Cache-Control", "no-store")
        if reply.status == 204 or reply.body is None:
            self.finish()
            return
        octo = self.route.answer is Answer.OCTOPRINT
        self.set_header("Content-Type", OCTOPRINT_JSON if octo else JSON_TYPE)
        self.finish(_encode(reply.body))

    def fail(self, status: int, message: str) -> None:
        if self._finished:
            return
        self.clear_header("Location")
        self.send_error_json(status, message)

    def send_error_json(self, status: int, message: str) -> None:
        if self.route.answer is Answer.OCTOPRINT:
            if status == 401:
                status, message = 403, NO_PERMISSION
            self.set_status(status)
            self.set_header("Content-Type", OCTOPRINT_JSON)
            self.finish(_encode({"error": message}))
            return
        self.set_status(status)
        self.set_header("Content-Type", JSON_TYPE)
        self.finish(error_body(status, message))

    def on_connection_close(self) -> None:
        # the client went away mid-body: nothing of the upload may remain
        if self.session is not None and not self._done:
            self._failed = self._failed or (400, "Connection closed")
            self.session.abort()
        super().on_connection_close()
