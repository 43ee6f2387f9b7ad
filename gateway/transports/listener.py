"""The listening sockets and Tornado's HTTPServer, kept for the life of the process so
that `server.restart` swaps the server behind them without closing the port."""

from __future__ import annotations

import socket

import tornado.httpserver
import tornado.netutil
from tornado.httputil import (
    HTTPConnection,
    HTTPHeaders,
    HTTPMessageDelegate,
    HTTPServerConnectionDelegate,
    ResponseStartLine,
)

from gateway.transports.http import JSON_TYPE, error_body


class _Unavailable(HTTPServerConnectionDelegate):
    """Between two server generations every request gets a 503."""

    def start_request(self, server_conn: object, request_conn: HTTPConnection) -> _Answer503:
        return _Answer503(request_conn)


class _Answer503(HTTPMessageDelegate):
    def __init__(self, conn: HTTPConnection) -> None:
        self.conn = conn

    def finish(self) -> None:
        body = error_body(503, "Server is restarting")
        headers = HTTPHeaders({"Content-Type": JSON_TYPE, "Content-Length": str(len(body))})
        self.conn.write_headers(ResponseStartLine("HTTP/1.1", 503, "Service Unavailable"),
                                headers, body)
        self.conn.finish()


class Listener:
    def __init__(self, sockets: list[socket.socket]) -> None:
        self.sockets = sockets
        self.http = tornado.httpserver.HTTPServer(_Unavailable(), xheaders=False)
        self.http.add_sockets(sockets)

    @classmethod
    def bind(cls, host: str, port: int) -> Listener:
        return cls(tornado.netutil.bind_sockets(port, address=host))

    @property
    def port(self) -> int:
        port: int = self.sockets[0].getsockname()[1]
        return port

    def attach(self, delegate: HTTPServerConnectionDelegate, max_body_size: int) -> None:
        self.http.request_callback = delegate
        self.http.conn_params.max_body_size = max_body_size

    async def detach(self) -> None:
        self.http.request_callback = _Unavailable()
        await self.http.close_all_connections()

    def close(self) -> None:
        self.http.stop()
