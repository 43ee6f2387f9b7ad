"""HTTP adapter. Registry routes and JSON-RPC over HTTP are answered by lean message
delegates plugged into Tornado's HTTPServer (http_door: no RequestHandler, no router);
every other path (websocket upgrades, static roots, streaming uploads and downloads) goes
on to the Tornado Application, whose handlers derive from BaseHandler.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

import tornado.web
from tornado.httputil import (
    HTTPConnection,
    HTTPHeaders,
    HTTPMessageDelegate,
    HTTPServerConnectionDelegate,
    RequestStartLine,
    ResponseStartLine,
)

from gateway.errors import ServerError
from gateway.params import decode_query_values
from gateway.request import Caller, Transport
from gateway.transports.http_door import (
    JSON_TYPE,
    Door,
    JsonRpcDoor,
    RegistryDoor,
    announced_length,
    error_body,
)

if TYPE_CHECKING:
    from gateway.transports.host import TransportHost

__all__ = ["JSON_TYPE", "BaseHandler", "NotFoundHandler", "ServerDelegate", "error_body"]
JSONRPC_PATH = "/server/jsonrpc"

log = logging.getLogger(__name__)

# bytes a request to a non-streaming Tornado route (websocket upgrade, download, static
# file) may carry: none of them reads a body, so a few KiB are plenty
PLAIN_BODY_LIMIT = 64 * 1024

# kept for callers of the old name
decode_values = decode_query_values


class ServerDelegate(HTTPServerConnectionDelegate):
    """What Tornado's HTTPServer talks to: picks the door for each request."""

    def __init__(self, server: TransportHost, app: tornado.web.Application) -> None:
        self.server = server
        self.app = app

    def start_request(
        self, server_conn: object, request_conn: HTTPConnection
    ) -> HTTPMessageDelegate:
        return _RequestDelegate(self, server_conn, request_conn)

    def on_close(self, server_conn: object) -> None:
        self.app.on_close(server_conn)


class _RequestDelegate(HTTPMessageDelegate):
    """Chooses, from the request line, the registry door, JSON-RPC's, or the Tornado
    Application (streaming uploads, downloads, websocket upgrades, static roots)."""

    __slots__ = ("conn", "headers", "limit", "outer", "server_conn", "size", "start", "target")

    def __init__(self, outer: ServerDelegate, server_conn: object, conn: HTTPConnection) -> None:
        self.outer = outer
        self.server_conn = server_conn
        self.conn = conn
        self.target: HTTPMessageDelegate | None = None
        # bytes allowed to pass to a Tornado route that does not stream (None: no cap)
        self.limit: int | None = None
        self.size = 0
        self.start: RequestStartLine | None = None
        self.headers: HTTPHeaders | None = None

    def headers_received(
        self,
        start_line: RequestStartLine | ResponseStartLine,
        headers: HTTPHeaders,
    ) -> Awaitable[None] | None:
        assert isinstance(start_line, RequestStartLine)
        server = self.outer.server
        path = start_line.path.partition("?")[0]
        found = server.registry.lookup_http(path)
        door: Door | None = None
        if found is not None and (start_line.method in found[0]
                                  or not server.streams_at(path)):
            door = RegistryDoor(server, self.conn, start_line, headers, *found)
        elif path == JSONRPC_PATH:
            door = JsonRpcDoor(server, self.conn, start_line, headers)
        if door is not None:
            self.target = door
            door.begin()
            return None
        if not server.streams_at(path):
            length = announced_length(headers)
            if length is not None and length > PLAIN_BODY_LIMIT:
                refusal = Door(server, self.conn, start_line, headers)
                self.target = refusal
                refusal.refuse(413, "This route takes no request body")
                return None
            self.limit = PLAIN_BODY_LIMIT
            self.start, self.headers = start_line, headers
        inner = self.outer.app.start_request(self.server_conn, self.conn)
        self.target = inner
        return inner.headers_received(start_line, headers)

    def data_received(self, chunk: bytes) -> Awaitable[None] | None:
        target = self.target
        if target is None:
            return None
        if self.limit is not None:
            self.size += len(chunk)
            if self.size > self.limit:
                # a chunked body too large for a route that reads none: its handler has
                # not started (it runs once the body is in), so it is dropped unstarted
                target.on_connection_close()
                assert self.start is not None and self.headers is not None
                refusal = Door(self.outer.server, self.conn, self.start, self.headers)
                self.target = refusal
                refusal.refuse(413, "This route takes no request body")
                return None
        return target.data_received(chunk)

    def on_connection_close(self) -> None:
        if self.target is not None:
            self.target.on_connection_close()

    def finish(self) -> None:
        if self.target is not None:
            self.target.finish()


class BaseHandler(tornado.web.RequestHandler):
    """For the few Tornado handlers: access checks, CORS, JSON errors, never a traceback.

    `public = True` on a subclass lets callers without credentials through."""

    server: TransportHost
    public = False
    # set by prepare(): the authenticated user, if any
    user: dict[str, object] | None = None

    def initialize(self, server: TransportHost) -> None:
        self.server = server

    def prepare(self) -> Awaitable[None] | None:
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

    def options(self, *args: object) -> None:
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
