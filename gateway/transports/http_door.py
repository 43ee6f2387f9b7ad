"""The HTTP doors of the method table: a registry route, and JSON-RPC over POST
/server/jsonrpc. Both decide from the request line and headers alone - route, verb,
access, size - and answer a refusal at once, before a byte of the body is read (the
connection is then closed, so the body is never buffered). An accepted body is capped
(`max_websocket_message_size`), chunked or not; only the upload routes (Tornado handlers)
stream larger bodies.
"""

from __future__ import annotations

import asyncio
import http.client
import logging
import urllib.parse
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

import msgspec
from tornado.httputil import (
    HTTPConnection,
    HTTPHeaders,
    HTTPMessageDelegate,
    RequestStartLine,
    ResponseStartLine,
)

from gateway.errors import ServerError
from gateway.params import decode_query_values
from gateway.registry import Answer, Endpoint, Response
from gateway.request import Caller, Request, Transport
from gateway.transports.body import FORM_TYPES, body_arguments, media_type

if TYPE_CHECKING:
    from gateway.transports.host import TransportHost

log = logging.getLogger(__name__)

_encode = msgspec.json.Encoder().encode
JSON_TYPE = "application/json; charset=UTF-8"
OCTOPRINT_JSON = "application/json"
# OctoPrint answers a request without the needed permission with this 403
NO_PERMISSION = ("You don't have the permission to access the requested resource. It is "
                 "either read-protected or not readable by the server.")
_REASONS = http.client.responses
_tasks: set[asyncio.Task[None]] = set()
# a body larger than a chunk of this is already refused: no need to wait for more
_UNLIMITED = 1 << 62


def error_body(status: int, message: str) -> bytes:
    return _encode({"error": {"code": status, "message": message}})


def body_limit(server: TransportHost) -> int:
    """Bytes a non-upload request body may have."""
    return server.server_config.max_websocket_message_size * 1024


def announced_length(headers: HTTPHeaders) -> int | None:
    """Content-Length as a number (None when absent or not a plain number)."""
    raw = headers.get("Content-Length")
    if raw is None:
        return None
    raw = raw.strip()
    return int(raw) if raw.isdigit() else None


def has_body(headers: HTTPHeaders) -> bool:
    length = announced_length(headers)
    return bool(length) or "Transfer-Encoding" in headers


def peer_ip(conn: HTTPConnection) -> str:
    context = getattr(conn, "context", None)
    return getattr(context, "remote_ip", "") or ""


def octoprint_credentials(headers: HTTPHeaders, args: dict[str, object]) -> None:
    """OctoPrint takes the API key as `?apikey=` or `Authorization: Bearer <key>`; the
    access component reads it from X-Api-Key."""
    if "X-Api-Key" in headers:
        return
    key = args.get("apikey")
    auth = headers.get("Authorization", "")
    if not isinstance(key, str) and auth[:7].lower() == "bearer " and "." not in auth[7:]:
        key = auth[7:].strip()  # an API key, not a JWT
        del headers["Authorization"]
    if isinstance(key, str) and key:
        headers["X-Api-Key"] = key


class Door(HTTPMessageDelegate):
    """One HTTP request to a door: answering, closing, the body cap."""

    def __init__(self, server: TransportHost, conn: HTTPConnection, start: RequestStartLine,
                 headers: HTTPHeaders) -> None:
        self.server = server
        self.conn = conn
        self.start = start
        self.headers = headers
        self.body: list[bytes] = []
        self.size = 0
        self.limit = body_limit(server)
        self.answered = False
        self.checked = False

    def begin(self) -> None:
        """Headers are in. A request with a body is decided now: refused at once (the
        body never read), or admitted up to the cap. One without is decided in finish(),
        so that a refusal keeps the connection alive."""
        if has_body(self.headers):
            self.checked = True
            if self.check():
                self.admit_body()

    def check(self) -> bool:
        """Route, verb and access; False when refused (answered)."""
        raise NotImplementedError

    def finish(self) -> None:
        if not self.checked:
            self.checked = True
            if not self.check():
                return
        if not self.answered:
            self.complete()

    def complete(self) -> None:
        """The body is in (capped): answer."""
        raise NotImplementedError

    def admit_body(self) -> None:
        """Refuses a body announced too large; otherwise counts it as it comes."""
        length = announced_length(self.headers)
        if length is not None and length > self.limit:
            self.refuse(413, f"Request body larger than {self.limit} bytes")
            return
        # our own count answers 413; Tornado's limit would close without an answer
        set_limit = getattr(self.conn, "set_max_body_size", None)
        if set_limit is not None:
            set_limit(_UNLIMITED)

    def data_received(self, chunk: bytes) -> None:
        if self.answered:
            return
        self.size += len(chunk)
        if self.size > self.limit:
            self.body.clear()
            self.refuse(413, f"Request body larger than {self.limit} bytes")
            return
        self.body.append(chunk)

    def refuse(self, status: int, message: str) -> None:
        self.respond(status, error_body(status, message))

    def respond(self, status: int, body: bytes | None, *, content_type: str = JSON_TYPE,
                headers: dict[str, str] | None = None, cache: bool = False) -> None:
        if self.answered:
            return
        self.answered = True
        out = HTTPHeaders()
        if body is not None:
            out["Content-Type"] = content_type
        out["Content-Length"] = str(len(body or b""))
        if not cache:
            out["Cache-Control"] = "no-store"
        if self.server.access is not None:
            for name, value in self.server.http_response_headers(self.headers).items():
                out[name] = value
        if headers:
            for name, value in headers.items():
                out[name] = value
        self.conn.write_headers(
            ResponseStartLine("HTTP/1.1", status, _REASONS.get(status, "Unknown")),
            out,
            body or b"",
        )
        # answered before the body was read: Tornado closes the connection once this is
        # written, and drops what the client still sends meanwhile
        self.conn.finish()
        if status >= 500:
            log.warning("%d %s %s", status, self.start.method, self.start.path[:200])

    def on_connection_close(self) -> None:
        self.body.clear()
        self.answered = True


class RegistryDoor(Door):
    """A request to a registry route."""

    def __init__(self, server: TransportHost, conn: HTTPConnection, start: RequestStartLine,
                 headers: HTTPHeaders, verbs: dict[str, Endpoint],
                 path_args: dict[str, str]) -> None:
        super().__init__(server, conn, start, headers)
        self.verbs = verbs
        self.path_args = path_args
        self.endpoint: Endpoint | None = None
        self.request: Request | None = None

    def check(self) -> bool:
        method = self.start.method
        endpoint = self.endpoint = self.verbs.get(method)
        if endpoint is None:
            if method == "OPTIONS":
                self._preflight()
            else:
                self.refuse(405, "Method Not Allowed")
            return False
        _, _, query = self.start.path.partition("?")
        try:
            args = (decode_query_values(urllib.parse.parse_qs(query, keep_blank_values=True))
                    if query else {})
            if endpoint.answer is Answer.OCTOPRINT:
                octoprint_credentials(self.headers, args)
            request = self.request = Request(
                endpoint.name,
                args,
                Caller(ip=peer_ip(self.conn), transport=Transport.HTTP),
                http_method=method,
                path_args=self.path_args,
                headers=self.headers,
            )
            self.server.registry.guard(endpoint, request)
        except ServerError as exc:
            self.fail(exc)
            return False
        return True

    def _preflight(self) -> None:
        """CORS preflight: the access component's headers decide what is allowed."""
        self.answered = True
        headers = HTTPHeaders({"Content-Length": "0"})
        for name, value in self.server.http_response_headers(self.headers).items():
            headers[name] = value
        self.conn.write_headers(ResponseStartLine("HTTP/1.1", 204, "No Content"), headers, b"")
        self.conn.finish()

    def complete(self) -> None:
        endpoint, request = self.endpoint, self.request
        assert endpoint is not None and request is not None
        try:
            spec = endpoint.params
            if spec is not None:
                # query strings and forms carry texts: loosened for what the row declares;
                # a JSON body carries types, taken as they are
                request.args = spec.loosen(request.args)
            if self.body:
                body = b"".join(self.body)
                self.body = []
                content_type = self.headers.get("Content-Type", "")
                fields = body_arguments(content_type, body,
                                        json_only=endpoint.answer is Answer.OCTOPRINT)
                if fields:
                    if spec is not None and media_type(content_type) in FORM_TYPES:
                        fields = spec.loosen(fields)
                    request.args.update(fields)
            if self.path_args:
                request.args.update(self.path_args)
            result = endpoint.run(request)
        except ServerError as exc:
            self.fail(exc)
            return
        except Exception:
            log.exception("HTTP %s %s failed", self.start.method, self.start.path[:200])
            self.fail(ServerError("Internal Server Error", 500))
            return
        if endpoint.is_async:
            task = asyncio.ensure_future(self._finish_async(result))
            _tasks.add(task)
            task.add_done_callback(_tasks.discard)
            return
        self.answer(result)

    async def _finish_async(self, pending: Awaitable[object]) -> None:
        try:
            result = await pending
        except ServerError as exc:
            self.fail(exc)
            return
        except Exception:
            log.exception("HTTP %s %s failed", self.start.method, self.start.path[:200])
            self.fail(ServerError("Internal Server Error", 500))
            return
        self.answer(result)

    def answer(self, result: object) -> None:
        endpoint = self.endpoint
        assert endpoint is not None
        shape = endpoint.answer
        status, headers = 200, None
        if isinstance(result, Response):
            status, headers, result = result.status, result.headers, result.body
        try:
            if shape is Answer.MOONRAKER:
                self.respond(status, b'{"result":%s}' % _encode(result), headers=headers)
                return
            empty = status == 204 or (result is None and status != 200)
            payload = None if empty else _encode(result)
        except (TypeError, ValueError, OverflowError):
            log.exception("HTTP %s %s: result not encodable", self.start.method,
                          self.start.path[:200])
            self.fail(ServerError("Internal Server Error", 500))
            return
        if shape is Answer.OCTOPRINT:
            self.respond(status, payload, content_type=OCTOPRINT_JSON, headers=headers,
                         cache=self.start.method == "GET")
        else:
            self.respond(status, payload, headers=headers)

    def fail(self, exc: ServerError) -> None:
        endpoint = self.endpoint
        if endpoint is not None and endpoint.answer is Answer.OCTOPRINT:
            status, message = exc.status, exc.message
            if status == 401:
                status, message = 403, NO_PERMISSION
            self.respond(status, _encode({"error": message}), content_type=OCTOPRINT_JSON)
            return
        self.refuse(exc.status, exc.message)


class JsonRpcDoor(Door):
    """POST /server/jsonrpc: a JSON-RPC request or batch in the body, answered whole."""

    user: dict[str, Any] | None = None

    def check(self) -> bool:
        if self.start.method == "OPTIONS":
            self.respond(204, None)
            return False
        if self.start.method != "POST":
            self.refuse(405, "Method Not Allowed")
            return False
        access = self.server.access
        if access is not None:
            _, _, query = self.start.path.partition("?")
            try:
                self.user = access.check_http(
                    "POST", self.start.path.partition("?")[0], peer_ip(self.conn),
                    self.headers, urllib.parse.parse_qs(query, keep_blank_values=True),
                    False,
                )
            except ServerError as exc:
                self.refuse(exc.status, exc.message)
                return False
        return True

    def complete(self) -> None:
        body = b"".join(self.body)
        self.body = []
        caller = Caller(ip=peer_ip(self.conn), transport=Transport.HTTP, user=self.user)
        task = asyncio.ensure_future(self._answer(body, caller))
        _tasks.add(task)
        task.add_done_callback(_tasks.discard)

    async def _answer(self, body: bytes, caller: Caller) -> None:
        answer = await self.server.dispatcher.handle_async(body, caller)
        if answer is None:
            self.respond(204, None)
            return
        self.respond(200, answer)
