"""Websocket adapter: one Connection per socket, frames to the JSON-RPC dispatcher."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import tornado.websocket

from gateway.request import Caller, Transport
from gateway.transports.connection import Connection

if TYPE_CHECKING:
    from gateway.app import Server

log = logging.getLogger(__name__)

# RFC 6455 1013: try again later (a server limit, not an error of the client's)
CLOSE_TRY_AGAIN_LATER = 1013


class _WebsocketConnection(Connection):
    def __init__(self, handler: WebSocketHandler, ip: str) -> None:
        super().__init__(ip)
        self._handler = handler

    def send_bytes(self, data: bytes) -> None:
        if self._handler.ws_connection is None:
            return
        try:
            # bytes with binary=False go out as a text frame, without a decode/encode trip
            self._handler.write_message(data)
        except tornado.websocket.WebSocketClosedError:
            pass

    def close(self, code: int, reason: str) -> None:
        self._handler.close(code, reason)


class WebSocketHandler(tornado.websocket.WebSocketHandler):
    server: Server
    conn: _WebsocketConnection | None = None

    def initialize(self, server: Server) -> None:
        self.server = server
        self.conn = None
        self._caller: Caller | None = None

    def check_origin(self, origin: str) -> bool:
        return self.server.check_websocket_origin(origin, self.request.host)

    def open(self, *args: Any, **kwargs: Any) -> None:
        conn = _WebsocketConnection(self, self.request.remote_ip or "")
        limit = self.server.server_config.max_websocket_connections
        if len(self.server.connections) >= limit:
            self.close(
                CLOSE_TRY_AGAIN_LATER,
                f"Maximum number of websocket connections reached ({limit})",
            )
            return
        self.set_nodelay(True)
        self.conn = conn
        self._caller = Caller(ip=conn.ip, transport=Transport.WEBSOCKET, connection=conn)
        self.server.connection_opened(conn, self.request.headers)

    def on_message(self, message: str | bytes) -> None:
        if self.conn is None or self._caller is None:
            return
        self.server.dispatcher.handle(message, self._caller, self.conn.send_bytes)

    def on_close(self) -> None:
        if self.conn is not None:
            self.server.connection_closed(self.conn)
            self.conn = None
