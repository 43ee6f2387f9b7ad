"""A server-side websocket after the HTTP upgrade, on an asyncio Protocol: RFC 6455
framing (wsframes), keep-alive, the close handshake, backpressure. What a message means
is the subclass's (JSON-RPC in websocket.py, OctoPrint's push channel in sockjs.py).

Tornado parses the upgrade request and applies access, CORS and origin checks like on
any route; `take_over` then moves the socket to the protocol: each received chunk is
parsed at once, and the answers produced meanwhile leave in one write.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import os
import socket
from collections.abc import Mapping

import tornado.web

from gateway.transports import wsframes as wsf
from gateway.transports.connection import SocketGate
from gateway.transports.http import BaseHandler

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


def upgrade_error(headers: Mapping[str, str]) -> tuple[int, str] | None:
    """Why this request cannot become a websocket (status, message), or None."""
    if headers.get("Upgrade", "").lower() != "websocket":
        return 400, 'Can "Upgrade" only to "WebSocket".'
    if "upgrade" not in headers.get("Connection", "").lower():
        return 400, '"Connection" must be "Upgrade".'
    if headers.get("Sec-WebSocket-Version") not in ("13", "8", "7"):
        return 426, "Unsupported websocket version, expected 13"
    if not headers.get("Sec-WebSocket-Key"):
        return 400, "Missing Sec-WebSocket-Key"
    return None


def refuse_upgrade(handler: BaseHandler) -> bool:
    """Answer (and return True) when this request may not become a websocket: not a
    valid upgrade, or a browser page from an origin the access rules do not allow."""
    headers = handler.request.headers
    problem = upgrade_error(headers)
    if problem is not None:
        if problem[0] == 426:
            handler.set_header("Sec-WebSocket-Version", "13")
        handler.send_error_json(*problem)
        return True
    origin = headers.get("Origin")
    if origin is not None and not handler.server.check_websocket_origin(
        origin, handler.request.host
    ):
        handler.send_error_json(403, "Cross origin websockets not allowed")
        return True
    return False


async def take_over(handler: tornado.web.RequestHandler, protocol: FramedConnection) -> None:
    """Move the upgraded socket from Tornado to `protocol` and answer 101."""
    key = handler.request.headers["Sec-WebSocket-Key"]
    stream = handler.detach()
    # our own duplicate of the socket outlives Tornado's stream object
    sock = socket.socket(fileno=os.dup(stream.socket.fileno()))
    stream.close()
    await asyncio.get_running_loop().connect_accepted_socket(lambda: protocol, sock=sock)
    protocol.send_handshake(accept_key(key))


class FramedConnection(asyncio.Protocol):
    """Subclasses implement on_open (False refuses: the socket is closed), on_message and
    on_closed; they may change keepalive() and closing_message()."""

    ping_interval = PING_INTERVAL
    # set by the upgrade handler: where an unauthenticated socket waits (None: it may not)
    gate: SocketGate | None = None

    def __init__(self, ip: str, max_message_size: int) -> None:
        self.ip = ip
        self.parser = wsf.FrameParser(max_message_size)
        self.transport: asyncio.Transport | None = None
        self.close_code: int | None = None
        self._pending: list[bytes] | None = None
        self._closing = False
        self._opened = False
        self._last_seen = 0.0
        self._ping_timer: asyncio.TimerHandle | None = None
        self._close_timer: asyncio.TimerHandle | None = None

    # -- what subclasses decide ------------------------------------------------------

    def on_open(self) -> bool:
        return True

    def on_message(self, data: str | bytes) -> None:
        raise NotImplementedError

    def on_closed(self) -> None:
        return None

    def is_authenticated(self) -> bool:
        """Has the client shown who it is (or does its address suffice)?"""
        return True

    def closing_message(self, code: int, reason: str) -> bytes | None:
        """A last text frame before the close frame (SockJS's c[...]), or None."""
        return None

    def keepalive(self) -> None:
        """Called every ping_interval: ping, and close a client gone silent."""
        loop = asyncio.get_running_loop()
        if loop.time() - self._last_seen > IDLE_TIMEOUT:
            log.info("websocket from %s silent for %.0fs; closing", self.ip, IDLE_TIMEOUT)
            self.close(wsf.CLOSE_GOING_AWAY, "Ping timeout")
            return
        assert self.transport is not None
        self.transport.write(wsf.encode_frame(wsf.OP_PING, b""))

    # -- asyncio.Protocol --------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self.transport is not None and not self._closing

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.set_write_buffer_limits(high=MAX_WRITE_BUFFER)
        loop = asyncio.get_running_loop()
        self._last_seen = loop.time()
        self._ping_timer = loop.call_later(self.ping_interval, self._tick)

    def send_handshake(self, accept: str) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        self.transport.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n" % accept.encode()
        )
        self._opened = self.on_open()
        if self._opened and self.gate is not None and not self.is_authenticated():
            self.gate.admit(self)

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
                    if not self._closing and self._opened:
                        self.on_message(event.data)
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
        log.warning("websocket client %s stopped reading; closing", self.ip)
        self.close(wsf.CLOSE_POLICY, "Client not reading")

    def connection_lost(self, exc: Exception | None) -> None:
        for timer in (self._ping_timer, self._close_timer):
            if timer is not None:
                timer.cancel()
        if self.gate is not None:
            self.gate.release(self)
        self.transport = None
        if self._opened:
            self._opened = False
            self.on_closed()

    # -- sending -------------------------------------------------------------------------

    def write_text(self, data: bytes) -> None:
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
        last = self.closing_message(code, reason)
        if last is not None:
            self.write_text(last)
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
            self.close(event.code if event.code != 1005 else wsf.CLOSE_NORMAL, "")
        if self.transport is not None:
            self.transport.close()

    def _abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    def _tick(self) -> None:
        if self.transport is None or self._closing:
            return
        self.keepalive()
        if not self._closing:
            self._ping_timer = asyncio.get_running_loop().call_later(self.ping_interval,
                                                                     self._tick)
