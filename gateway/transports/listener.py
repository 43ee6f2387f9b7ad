"""The listening sockets and Tornado's HTTPServer, kept for the life of the process so
that `server.restart` swaps the server behind them without closing the port."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable

import tornado.netutil
from tornado.httputil import (
    HTTPConnection,
    HTTPHeaders,
    HTTPMessageDelegate,
    HTTPServerConnectionDelegate,
    ResponseStartLine,
)

from gateway.transports.guard import SWEEP_INTERVAL, Acceptor, GuardedHTTPServer, GuardSettings
from gateway.transports.http import JSON_TYPE, error_body

INHERIT_ENV = "SKYSAIL_LISTEN_FDS"


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
        # caps, timeouts and accepting without spinning: gateway/transports/guard.py
        self.http = GuardedHTTPServer(_Unavailable(), xheaders=False)
        self.acceptor = Acceptor(sockets, self.http)
        self.acceptor.start()

    @classmethod
    def bind(cls, host: str, port: int) -> Listener:
        return cls(tornado.netutil.bind_sockets(port, address=host))

    @classmethod
    def inherited(cls) -> Listener | None:
        """The listening sockets a previous Skysail handed over when it exec'd a new
        version (SKYSAIL_LISTEN_FDS=3,4), or None."""
        value = os.environ.pop(INHERIT_ENV, "")
        sockets: list[socket.socket] = []
        for part in value.split(","):
            if not part.strip().isdigit():
                continue
            try:
                sock = socket.socket(fileno=int(part))
            except OSError:
                continue
            sock.set_inheritable(False)
            sock.setblocking(False)
            sockets.append(sock)
        return cls(sockets) if sockets else None

    def hand_over(self) -> dict[str, str]:
        """Make the sockets survive exec; the environment entry that names them."""
        fds = []
        for sock in self.sockets:
            sock.set_inheritable(True)
            fds.append(str(sock.fileno()))
        return {INHERIT_ENV: ",".join(fds)}

    @property
    def port(self) -> int:
        port: int = self.sockets[0].getsockname()[1]
        return port

    def attach(self, delegate: HTTPServerConnectionDelegate, max_body_size: int,
               guard: GuardSettings | None = None,
               peer_trusted: Callable[[str], bool] | None = None) -> None:
        self.http.request_callback = delegate
        self.http.conn_params.max_body_size = max_body_size
        if guard is not None:
            self.http.guard = guard
            # Tornado's own header timeout only backs up the guard's sweep
            self.http.conn_params.header_timeout = guard.idle_timeout + 2 * SWEEP_INTERVAL
        if peer_trusted is not None:
            self.http.peer_trusted = peer_trusted

    async def detach(self) -> None:
        self.http.request_callback = _Unavailable()
        await self.http.close_all_connections()

    def close(self) -> None:
        self.acceptor.close()
        self.http.stop_sweeping()
        self.http.stop()
