"""HTTP adapter. Registry routes are answered by a lean message delegate plugged into
Tornado's HTTPServer (no RequestHandler, no router); every other path (websocket upgrade,
static files, streaming uploads) goes on to the Tornado Application.
"""

from __future__ import annotations

import asyncio
import http.client
import logging
import urllib.parse
from typing import TYPE_CHECKING, Any

import msgspec
import tornado.httputil
import tornado.web
from tornado.httputil import (
    HTTPConnection,
    HTTPHeaders,
    HTTPMessageDelegate,
    HTTPServerConnectionDelegate,
    RequestStartLine,
    ResponseStartLine,
)

from gateway.errors import BadRequest, ServerError
from gateway.request import Caller, Request, Transport

if TYPE_CHECKING:
    from gateway.app import Server
    from gateway.registry import Endpoint

log = logging.getLogger(__name__)

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode
JSON_TYPE = "application/json; charset=UTF-8"
_BOOL_WORDS = {"true": True, "false": False, "1": True, "0": False}
_REASONS = http.client.responses
_tasks: set[asyncio.Task[None]] = set()


def _hinted(name: str, value: str) -> tuple[str, Any]:
    """Moonraker's query-string type hints: `count:int=5`, `flag:bool=true`, `x:json=[1]`."""
    base, _, hint = name.partition(":")
    if not hint:
        return name, value
    try:
        if hint == "int":
            return base, int(value)
        if hint == "float":
            return base, float(value)
        if hint == "bool":
            return base, _BOOL_WORDS[value.strip().lower()]
        if hint == "json":
            return base, _decode(value)
    except (ValueError, KeyError, msgspec.DecodeError):  # UnicodeDecodeError is a ValueError
        raise BadRequest(
            f"Unable to convert argument [{base}] to {hint}: value received: {value}"
        ) from None
    raise BadRequest(f"Unknown type hint '{hint}' for argument [{base}]")


def decode_values(values: dict[str, list[bytes]] | dict[str, list[str]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, raw in values.items():
        last = raw[-1] if raw else ""
        text = last.decode("utf-8", errors="replace") if isinstance(last, bytes) else last
        key, value = _hinted(name, text)
        out[key] = value
    return out


def error_body(status: int, message: str) -> bytes:
    return _encode({"error": {"code": status, "message": message}})


class ServerDelegate(HTTPServerConnectionDelegate):
    """What Tornado's HTTPServer talks to: picks the fast path or the Application."""

    def __init__(self, server: Server, app: tornado.web.Application) -> None:
        self.server = server
        self.app = app

    def start_request(
        self, server_conn: object, request_conn: HTTPConnection
    ) -> HTTPMessageDelegate:
        return _RequestDelegate(self, server_conn, request_conn)

    def on_close(self, server_conn: object) -> None:
        self.app.on_close(server_conn)


class _RequestDelegate(HTTPMessageDelegate):
    __slots__ = ("body", "conn", "endpoint", "inner", "outer", "path_args", "server_conn",
                 "start", "too_large", "verb_headers")

    def __init__(self, outer: ServerDelegate, server_conn: object, conn: HTTPConnection) -> None:
        self.outer = outer
        self.server_conn = server_conn
        self.conn = conn
        self.inner: HTTPMessageDelegate | None = None
        self.endpoint: Endpoint | None = None
        self.path_args: dict[str, str] = {}
        self.body: list[bytes] = []
        self.start: RequestStartLine | None = None
        self.verb_headers: HTTPHeaders | None = None
        self.too_large = False

    def headers_received(
        self,
        start_line: RequestStartLine | ResponseStartLine,
        headers: HTTPHeaders,
    ) -> Any:
        assert isinstance(start_line, RequestStartLine)
        path = start_line.path.split("?", 1)[0]
        found = self.outer.server.registry.lookup_http(path)
        if found is None:
            inner = self.outer.app.start_request(self.server_conn, self.conn)
            self.inner = inner
            return inner.headers_received(start_line, headers)
        self.start = start_line
        self.verb_headers = headers
        verbs, self.path_args = found
        self.endpoint = verbs.get(start_line.method)
        # API bodies are buffered, so they get the JSON message limit, not the upload one
        limit = self.outer.server.server_config.max_websocket_message_size * 1024
        length = headers.get("Content-Length", "0")
        if length.isdigit() and int(length) > limit:
            self.too_large = True
            self._respond(413, error_body(413, f"Request body larger than {limit} bytes"))
        return None

    def _preflight(self) -> None:
        """CORS preflight: the access component's headers decide what is allowed."""
        assert self.verb_headers is not None
        headers = HTTPHeaders({"Content-Length": "0"})
        for name, value in self.outer.server.http_response_headers(self.verb_headers).items():
            headers[name] = value
        self.conn.write_headers(ResponseStartLine("HTTP/1.1", 204, "No Content"), headers, b"")
        self.conn.finish()

    def data_received(self, chunk: bytes) -> Any:
        if self.inner is not None:
            return self.inner.data_received(chunk)
        if not self.too_large:
            self.body.append(chunk)
        return None

    def on_connection_close(self) -> None:
        if self.inner is not None:
            self.inner.on_connection_close()

    def finish(self) -> None:
        if self.inner is not None:
            self.inner.finish()
            return
        if self.too_large:
            return
        assert self.start is not None and self.verb_headers is not None
        endpoint = self.endpoint
        if endpoint is None and self.start.method == "OPTIONS":
            self._preflight()
            return
        if endpoint is None:
            self._respond(405, error_body(405, "Method Not Allowed"))
            return
        try:
            request = self._request(endpoint)
            self.outer.server.check_access(endpoint, request)
            result = endpoint.handler(request)
        except ServerError as exc:
            self._respond(exc.status, error_body(exc.status, exc.message))
            return
        except Exception:
            log.exception("HTTP %s %s failed", self.start.method, self.start.path)
            self._respond(500, error_body(500, "Internal Server Error"))
            return
        if endpoint.is_async:
            task = asyncio.ensure_future(self._finish_async(result, endpoint.raw_http))
            _tasks.add(task)
            task.add_done_callback(_tasks.discard)
            return
        self._respond(200, _encode(result) if endpoint.raw_http
                      else b'{"result":%s}' % _encode(result))

    async def _finish_async(self, pending: Any, raw: bool) -> None:
        assert self.start is not None
        try:
            result = await pending
        except ServerError as exc:
            self._respond(exc.status, error_body(exc.status, exc.message))
            return
        except Exception:
            log.exception("HTTP %s %s failed", self.start.method, self.start.path)
            self._respond(500, error_body(500, "Internal Server Error"))
            return
        self._respond(200, _encode(result) if raw else b'{"result":%s}' % _encode(result))

    def _request(self, endpoint: Endpoint) -> Request:
        assert self.start is not None and self.verb_headers is not None
        headers = self.verb_headers
        _, _, query = self.start.path.partition("?")
        args = (
            decode_values(urllib.parse.parse_qs(query, keep_blank_values=True))
            if query
            else {}
        )
        body = b"".join(self.body)
        if body:
            content_type = headers.get("Content-Type", "")
            if content_type.startswith("application/json") or not content_type:
                try:
                    decoded = _decode(body)
                except (msgspec.DecodeError, UnicodeDecodeError):
                    # msgspec raises UnicodeDecodeError for bad UTF-8 inside a string
                    raise BadRequest("Error parsing JSON body: invalid JSON") from None
                if not isinstance(decoded, dict):
                    raise BadRequest("Error parsing JSON body: expected a JSON object")
                args.update(decoded)
            else:
                form: dict[str, list[bytes]] = {}
                files: dict[str, list[tornado.httputil.HTTPFile]] = {}
                tornado.httputil.parse_body_arguments(content_type, body, form, files, headers)
                args.update(decode_values(form))
        ip = getattr(self.conn, "context", None)
        remote_ip = getattr(ip, "remote_ip", "") or ""
        return Request(
            endpoint.name,
            args,
            Caller(ip=remote_ip, transport=Transport.HTTP),
            http_method=self.start.method,
            path_args=self.path_args,
            headers=headers,
        )

    def _respond(self, status: int, body: bytes) -> None:
        headers = HTTPHeaders()
        headers["Content-Type"] = JSON_TYPE
        headers["Content-Length"] = str(len(body))
        headers["Cache-Control"] = "no-store"
        if self.outer.server.access is not None and self.verb_headers is not None:
            for name, value in self.outer.server.http_response_headers(self.verb_headers).items():
                headers[name] = value
        self.conn.write_headers(
            ResponseStartLine("HTTP/1.1", status, _REASONS.get(status, "Unknown")),
            headers,
            body,
        )
        self.conn.finish()
        if status >= 500:
            log.warning("%d %s", status, self.start.path if self.start else "")


class BaseHandler(tornado.web.RequestHandler):
    """For the few Tornado handlers: access checks, CORS, JSON errors, never a traceback.

    `public = True` on a subclass lets callers without credentials through."""

    server: Server
    public = False
    # set by prepare(): the authenticated user, if any
    user: dict[str, Any] | None = None

    def initialize(self, server: Server) -> None:
        self.server = server

    def prepare(self) -> Any:
        for name, value in self.server.http_response_headers(self.request.headers).items():
            self.set_header(name, value)
        access = self.server.access
        if access is None:
            return None
        try:
            self.user = access.check_http(
                self.request.method or "GET",
                self.request.path,
                self.request.remote_ip or "",
                self.request.headers,
                {k: [v.decode(errors="replace") for v in vs]
                 for k, vs in self.request.query_arguments.items()},
                self.public,
            )
        except ServerError as exc:
            self.send_error_json(exc.status, exc.message)
        return None

    def options(self, *args: Any) -> None:
        self.set_status(204)
        self.finish()

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc_info = kwargs.get("exc_info")
        message = self._reason
        if exc_info is not None and isinstance(exc_info[1], ServerError):
            message = exc_info[1].message
        self.set_header("Content-Type", JSON_TYPE)
        self.finish(error_body(status_code, message))

    def send_error_json(self, status: int, message: str) -> None:
        self.set_status(status)
        self.set_header("Content-Type", JSON_TYPE)
        self.finish(error_body(status, message))

    def caller(self) -> Caller:
        return Caller(ip=self.request.remote_ip or "", transport=Transport.HTTP, user=self.user)


class NotFoundHandler(BaseHandler):
    def prepare(self) -> None:
        self.send_error_json(404, "Not Found")


class JsonRpcHttpHandler(BaseHandler):
    """POST /server/jsonrpc: a JSON-RPC request (or batch) in the body, the answer back."""

    async def post(self) -> None:
        answer = await self.server.dispatcher.handle_async(self.request.body, self.caller())
        self.set_header("Content-Type", JSON_TYPE)
        if answer is None:
            self.set_status(204)
            self.finish()
            return
        self.finish(answer)
