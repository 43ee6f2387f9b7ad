"""Websocket adapter. Tornado parses the upgrade request; then the socket moves to an
asyncio Protocol running our sans-IO framing (wsframes), which parses every frame in a
received chunk at once and writes the answers produced meanwhile in one syscall.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import os
import socket
from typing import TYPE_CHECKING

from gateway.request import Caller, Transport
from gateway.transports import wsframes as wsf
from gateway.transports.connection import Connection
from gateway.transports.http import BaseHandler

if TYPE_CHECKING:
    from gateway.app import Server

log = logging.getLogger(__name__)

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
PING_INTERVAL = 10.0
# a client silent this long (no frame, no pong) is gone
IDLE_TIMEOUT = 30.0
CLOSE_HANDSHAKE_TIMEOUT = 3.0
# a client that stops reading is dropped rather than buffered without end
MAX_WRITE_BUFFER = 16 * 1024 * 1024


def accept_key(key: str) -> str:
    return base64.b64encode(hashlib.sha1(key.encode() + _GUID).digest()).decode()


class WebSocketUpgradeHandler(BaseHandler):
    # an untrusted client may connect; every call but identify is refused until it does
    public = True

    async def get(self) -> None:
        headers = self.request.headers
        if headers.get("Upgrade", "").lower() != "websocket":
            self.send_error_json(400, 'Can "Upgrade" only to "WebSocket".')
            return
        if "upgrade" not in headers.get("Connection", "").lower():
            self.send_error_json(400, '"Connection" must be "Upgrade".')
            return
        if headers.get("Sec-WebSocket-Version") not in ("13", "8", "7"):
            self.set_header("Sec-WebSocket-Version", "13")
            self.send_error_json(426, "Unsupported websocket version, expected 13")
            return
        key = headers.get("Sec-WebSocket-Key")
        if not key:
            self.send_error_json(400, "Missing Sec-WebSocket-Key")
            return
        origin = headers.get("Origin")
        if origin is not None and not self.server.check_websocket_origin(
            origin, self.request.host
        ):
            self.send_error_json(403, "Cross origin websockets not allowed")
            return
        caller = self.caller()
        stream = self.detach()
        # our own duplicate of the socket outlives Tornado's stream object
        sock = socket.socket(fileno=os.dup(stream.socket.fileno()))
        stream.close()
        loop = asyncio.get_running_loop()
        protocol = WebsocketProtocol(self.server, caller.ip, dict(headers.get_all()))
        if self.server.access is not None:
            query = {k: [v.decode(errors="replace") for v in vs]
                     for k, vs in self.request.query_arguments.items()}
            self.server.access.open_websocket(protocol, headers, query)
        await loop.connect_accepted_socket(lambda: protocol, sock=sock)
        protocol.send_handshake(accept_key(key))


class WebsocketProtocol(asyncio.Protocol, Connection):
    def __init__(self, server: Server, ip: str, headers: dict[str, str]) -> None:
        Connection.__init__(self, ip)
        self.server = server
        self.headers = headers
        self.transport: asyncio.Transport | None = None
        self.parser = wsf.FrameParser(server.server_config.max_websocket_message_size * 1024)
        self.caller = Caller(ip=ip, transport=Transport.WEBSOCKET, connection=self)
        self._pending: list[bytes] | None = None
        self._closing = False
        self._registered = False
        self._last_seen = 0.0
        self._ping_timer: asyncio.TimerHandle | None = None
        self._close_timer: asyncio.TimerHandle | None = None
        self.close_code: int | None = None

    # -- asyncio.Protocol ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.set_write_buffer_limits(high=MAX_WRITE_BUFFER)
        loop = asyncio.get_running_loop()
        self._last_seen = loop.time()
        self._ping_timer = loop.call_later(PING_INTERVAL, self._keepalive)

    def send_handshake(self, accept: str) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        self.transport.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n" % accept.encode()
        )
        limit = self.server.server_config.max_websocket_connections
        if len(self.server.connections) >= limit:
            self.close(
                wsf.CLOSE_TRY_AGAIN_LATER,
                f"Maximum number of websocket connections reached ({limit})",
            )
            return
        self._registered = True
        self.server.connection_opened(self, self.headers)

    def data_received(self, data: bytes) -> None:
        self._last_seen = asyncio.get_running_loop().time()
        try:
            events = self.parser.feed(data)
        except wsf.ProtocolError as exc:
            self.close(exc.code, exc.reason)
            return
        # answers produced while handling this chunk leave in one write
        self._pending = pending = []
        try:
            for event in events:
                if type(event) is wsf.Message:
                    if not self._closing and self._registered:
                        self.server.dispatcher.handle(event.data, self.caller, self.send_bytes)
                elif type(event) is wsf.Ping:
                    pending.append(wsf.encode_frame(wsf.OP_PONG, event.payload))
                elif type(event) is wsf.Close:
                    self._on_close_frame(event)
                    break
        finally:
            self._pending = None
            if pending and self.transport is not None and not self.transport.is_closing():
                self.transport.write(b"".join(pending))

    def pause_writing(self) -> None:
        # the client reads slower than we produce; drop it before memory grows without end
        log.warning("websocket %s from %s stopped reading; closing", self.id, self.ip)
        self.close(wsf.CLOSE_POLICY, "Client not reading")

    def connection_lost(self, exc: Exception | None) -> None:
        for timer in (self._ping_timer, self._close_timer):
            if timer is not None:
                timer.cancel()
        self.transport = None
        if self._registered:
            self._registered = False
            self.server.connection_closed(self)

    # -- Connection -----------------------------------------------------------------------

    def send_bytes(self, data: bytes) -> None:
        if self._closing or self.transport is None:
            return
        frame = wsf.encode_frame(wsf.OP_TEXT, data)
        if self._pending is not None:
            self._pending.append(frame)
        else:
            self.transport.write(frame)

    def close(self, code: int = wsf.CLOSE_NORMAL, reason: str = "") -> None:
        if self._closing or self.transport is None:
            return
        self._closing = True
        self.close_code = code
        if self._pending:
            self.transport.write(b"".join(self._pending))
            self._pending.clear()
        self.transport.write(wsf.encode_close(code, reason))
        # wait for the client's close frame, but not for ever
        self._close_timer = asyncio.get_running_loop().call_later(
            CLOSE_HANDSHAKE_TIMEOUT, self._abort
        )

    def _on_close_frame(self, event: wsf.Close) -> None:
        if not self._closing:
            code = event.code if event.code != 1005 else wsf.CLOSE_NORMAL
            self.close(code, "")
        if self.transport is not None:
            self.transport.close()

    def _abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    def _keepalive(self) -> None:
        if self.transport is None or self._closing:
            return
        loop = asyncio.get_running_loop()
        if loop.time() - self._last_seen > IDLE_TIMEOUT:
            log.info("websocket %s from %s silent for %.0fs; closing", self.id, self.ip,
                     IDLE_TIMEOUT)
            self.close(wsf.CLOSE_GOING_AWAY, "Ping timeout")
            return
        self.transport.write(wsf.encode_frame(wsf.OP_PING, b""))
        self._ping_timer = loop.call_later(PING_INTERVAL, self._keepalive)


