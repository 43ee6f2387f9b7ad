"""The push channel OctoPrint clients open: a websocket carrying one JSON object per
message, in two framings.

* `/sockjs/websocket` - SockJS's raw websocket endpoint: each text frame is one JSON
  object, both ways (what mobile apps use).
* `/sockjs/<server>/<session>/websocket` - SockJS's websocket transport: the server
  sends `o` on open, `a["<json>", ...]` for messages, `h` as heartbeat and
  `c[code,"reason"]` before closing; the client sends `["<json>", ...]`.
* `GET /sockjs/info` answers the SockJS client's probe.

As websocket.py does, Tornado parses the upgrade request and the socket then moves to an
asyncio Protocol running wsframes. This module knows nothing of what the messages mean:
a `PushHub` (the component behind the route) is told of each connection, each decoded
client message and each close.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

import msgspec

from gateway.transports import wsframes as wsf
from gateway.transports.http import JSON_TYPE, BaseHandler
from gateway.transports.websocket import accept_key

if TYPE_CHECKING:
    from gateway.app import Server

log = logging.getLogger(__name__)
_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode

PING_INTERVAL = 10.0
IDLE_TIMEOUT = 30.0
SOCKJS_HEARTBEAT = 25.0
CLOSE_HANDSHAKE_TIMEOUT = 3.0
MAX_WRITE_BUFFER = 16 * 1024 * 1024


class PushHub(Protocol):
    """What the push route serves: the transport reports, the hub decides what to send."""

    def opened(self, conn: PushConnection) -> None: ...

    def received(self, conn: PushConnection, message: Any) -> None:
        """One decoded JSON value sent by the client."""

    def closed(self, conn: PushConnection) -> None: ...


class PushConnection(asyncio.Protocol):
    """One push client. `user` is who the HTTP upgrade authenticated (None if nobody);
    the hub may set it later (an `auth` message). `state` is the hub's."""

    def __init__(self, hub: PushHub, ip: str, user: dict[str, Any] | None,
                 sockjs: bool, max_message_size: int) -> None:
        self.hub = hub
        self.ip = ip
        self.user = user
        self.sockjs = sockjs
        self.state: dict[str, Any] = {}
        self.parser = wsf.FrameParser(max_message_size)
        self.transport: asyncio.Transport | None = None
        self._closing = False
        self._opened = False
        self._last_seen = 0.0
        self._ping_timer: asyncio.TimerHandle | None = None
        self._close_timer: asyncio.TimerHandle | None = None

    @property
    def open(self) -> bool:
        return self.transport is not None and not self._closing

    # -- asyncio.Protocol ----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.set_write_buffer_limits(high=MAX_WRITE_BUFFER)
        loop = asyncio.get_running_loop()
        self._last_seen = loop.time()
        interval = SOCKJS_HEARTBEAT if self.sockjs else PING_INTERVAL
        self._ping_timer = loop.call_later(interval, self._keepalive)

    def send_handshake(self, accept: str) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        self.transport.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n" % accept.encode()
        )
        if self.sockjs:
            self._write_text(b"o")
        self._opened = True
        self.hub.opened(self)

    def data_received(self, data: bytes) -> None:
        self._last_seen = asyncio.get_running_loop().time()
        try:
            events = self.parser.feed(data)
        except wsf.ProtocolError as exc:
            self.close(exc.code, exc.reason)
            return
        for event in events:
            if type(event) is wsf.Message:
                if not self._closing and self._opened:
                    self._on_message(event.data)
            elif type(event) is wsf.Ping:
                if self.transport is not None and not self.transport.is_closing():
                    self.transport.write(wsf.encode_frame(wsf.OP_PONG, event.payload))
            elif type(event) is wsf.Close:
                self._on_close_frame(event)
                break

    def _on_message(self, data: str | bytes) -> None:
        try:
            value = _decode(data)
        except (msgspec.DecodeError, UnicodeDecodeError):
            log.debug("push client %s sent a message that is not JSON", self.ip)
            return
        if not self.sockjs:
            self.hub.received(self, value)
            return
        # SockJS: a JSON array of JSON-encoded strings (or one such string)
        items = value if isinstance(value, list) else [value]
        for item in items:
            if not isinstance(item, str):
                continue
            try:
                self.hub.received(self, _decode(item))
            except (msgspec.DecodeError, UnicodeDecodeError):
                log.debug("push client %s sent a SockJS message that is not JSON", self.ip)

    def pause_writing(self) -> None:
        log.warning("push client %s stopped reading; closing", self.ip)
        self.close(wsf.CLOSE_POLICY, "Client not reading")

    def connection_lost(self, exc: Exception | None) -> None:
        for timer in (self._ping_timer, self._close_timer):
            if timer is not None:
                timer.cancel()
        self.transport = None
        if self._opened:
            self._opened = False
            self.hub.closed(self)

    # -- sending ------------------------------------------------------------------------

    def send_message(self, payload: bytes) -> None:
        """One JSON-encoded message (a hub encodes a broadcast once for all clients)."""
        if not self.open:
            return
        if self.sockjs:
            self._write_text(b"a" + _encode([payload.decode("utf-8")]))
        else:
            self._write_text(payload)

    def send(self, message: Any) -> None:
        self.send_message(_encode(message))

    def _write_text(self, data: bytes) -> None:
        if self.transport is not None:
            self.transport.write(wsf.encode_frame(wsf.OP_TEXT, data))

    def close(self, code: int = wsf.CLOSE_NORMAL, reason: str = "") -> None:
        if self._closing or self.transport is None:
            return
        if self.sockjs:
            self._write_text(b"c" + _encode([code, reason]))
        self._closing = True
        self.transport.write(wsf.encode_close(code, reason))
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

    def _keepalive(self) -> None:
        if self.transport is None or self._closing:
            return
        loop = asyncio.get_running_loop()
        if self.sockjs:
            self._write_text(b"h")
            self._ping_timer = loop.call_later(SOCKJS_HEARTBEAT, self._keepalive)
            return
        if loop.time() - self._last_seen > IDLE_TIMEOUT:
            self.close(wsf.CLOSE_GOING_AWAY, "Ping timeout")
            return
        self.transport.write(wsf.encode_frame(wsf.OP_PING, b""))
        self._ping_timer = loop.call_later(PING_INTERVAL, self._keepalive)


def upgrade_error(headers: Mapping[str, str]) -> tuple[int, str] | None:
    """Why this request cannot become a websocket, or None."""
    if headers.get("Upgrade", "").lower() != "websocket":
        return 400, 'Can "Upgrade" only to "WebSocket".'
    if "upgrade" not in headers.get("Connection", "").lower():
        return 400, '"Connection" must be "Upgrade".'
    if headers.get("Sec-WebSocket-Version") not in ("13", "8", "7"):
        return 426, "Unsupported websocket version, expected 13"
    if not headers.get("Sec-WebSocket-Key"):
        return 400, "Missing Sec-WebSocket-Key"
    return None


class PushUpgradeHandler(BaseHandler):
    """`/sockjs/websocket` (raw) and `/sockjs/<server>/<session>/websocket` (SockJS).
    Public: a client without credentials may connect; the hub sends it nothing of the
    printer until it authenticates with a message."""

    public = True
    hub: PushHub
    sockjs: bool

    def initialize(self, server: Server, hub: PushHub, sockjs: bool = False) -> None:  # type: ignore[override]
        super().initialize(server)
        self.hub = hub
        self.sockjs = sockjs

    async def get(self, *args: str, **kwargs: str) -> None:
        headers = self.request.headers
        problem = upgrade_error(headers)
        if problem is not None:
            if problem[0] == 426:
                self.set_header("Sec-WebSocket-Version", "13")
            self.send_error_json(*problem)
            return
        origin = headers.get("Origin")
        if origin is not None and not self.server.check_websocket_origin(
            origin, self.request.host
        ):
            self.send_error_json(403, "Cross origin websockets not allowed")
            return
        key = headers["Sec-WebSocket-Key"]
        ip = self.request.remote_ip or ""
        user = self.user
        stream = self.detach()
        sock = socket.socket(fileno=os.dup(stream.socket.fileno()))
        stream.close()
        limit = self.server.server_config.max_websocket_message_size * 1024
        protocol = PushConnection(self.hub, ip, user, self.sockjs, limit)
        await asyncio.get_running_loop().connect_accepted_socket(lambda: protocol, sock=sock)
        protocol.send_handshake(accept_key(key))


class SockJsInfoHandler(BaseHandler):
    """`GET /sockjs/info`: what a SockJS client asks before choosing a transport."""

    public = True

    def get(self, *args: str, **kwargs: str) -> None:
        self.set_header("Content-Type", JSON_TYPE)
        self.set_header("Cache-Control", "no-store, no-cache, must-revalidate, max-age=0")
        self.finish(_encode({"websocket": True, "cookie_needed": False,
                             "origins": ["*:*"], "entropy": random.getrandbits(31)}))


def routes(hub: PushHub) -> list[tuple[str, type[BaseHandler], dict[str, Any]]]:
    """The Tornado routes of the push channel, for `server.add_http_route`."""
    return [
        (r"/sockjs/info", SockJsInfoHandler, {}),
        (r"/sockjs/websocket", PushUpgradeHandler, {"hub": hub, "sockjs": False}),
        (r"/sockjs/[^/.]+/[^/.]+/websocket", PushUpgradeHandler, {"hub": hub, "sockjs": True}),
    ]
