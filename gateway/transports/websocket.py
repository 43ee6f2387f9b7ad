"""The JSON-RPC websocket at /websocket: one Connection per socket, each text frame
handed to the dispatcher (framing and keep-alive are wsconn's)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from gateway.request import Caller, Transport
from gateway.transports import wsframes as wsf
from gateway.transports.connection import Connection
from gateway.transports.http import BaseHandler
from gateway.transports.wsconn import FramedConnection, refuse_upgrade, take_over

if TYPE_CHECKING:
    from gateway.transports.host import TransportHost

log = logging.getLogger(__name__)


class WebSocketUpgradeHandler(BaseHandler):
    # an untrusted client may connect; every call but identify is refused until it does
    public = True

    async def get(self) -> None:
        if refuse_upgrade(self):
            return
        headers = self.request.headers
        protocol = WebsocketProtocol(self.server, self.caller().ip, dict(headers.get_all()))
        if self.server.access is not None:
            query = {k: [v.decode(errors="replace") for v in vs]
                     for k, vs in self.request.query_arguments.items()}
            self.server.access.open_websocket(protocol, headers, query)
        protocol.gate = self.server.connections.gate
        await take_over(self, protocol)


class WebsocketProtocol(FramedConnection, Connection):
    def __init__(self, server: TransportHost, ip: str, headers: dict[str, str]) -> None:
        Connection.__init__(self, ip)
        FramedConnection.__init__(
            self, ip, server.server_config.max_websocket_message_size * 1024
        )
        self.server = server
        self.headers = headers
        self.caller = Caller(ip=ip, transport=Transport.WEBSOCKET, connection=self)

    def on_open(self) -> bool:
        limit = self.server.server_config.max_websocket_connections
        # a socket still to authenticate waits in the gate instead, outside these slots
        if self.authenticated and self.server.connections.authenticated_count() >= limit:
            self.close(
                wsf.CLOSE_TRY_AGAIN_LATER,
                f"Maximum number of websocket connections reached ({limit})",
            )
            return False
        self.server.connection_opened(self, self.headers)
        return True

    def on_message(self, data: str | bytes) -> None:
        self.server.dispatcher.handle(data, self.caller, self.send_bytes)

    def on_closed(self) -> None:
        self.server.connection_closed(self)

    def is_authenticated(self) -> bool:
        return self.authenticated

    # -- Connection -----------------------------------------------------------------------

    def send_bytes(self, data: bytes) -> None:
        self.write_text(data)

    def close(self, code: int = wsf.CLOSE_NORMAL, reason: str = "") -> None:
        FramedConnection.close(self, code, reason)
