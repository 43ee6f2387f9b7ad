"""The push channel OctoPrint clients open: a websocket carrying one JSON object per
message, in two framings.

* `/sockjs/websocket` - SockJS's raw websocket endpoint: each text frame is one JSON
  object, both ways (what mobile apps use).
* `/sockjs/<server>/<session>/websocket` - SockJS's websocket transport: the server
  sends `o` on open, `a["<json>", ...]` for messages, `h` as heartbeat and
  `c[code,"reason"]` before closing; the client sends `["<json>", ...]`.
* `GET /sockjs/info` answers the SockJS client's probe.

Framing, keep-alive and closing are wsconn's. This module knows nothing of what the
messages mean:
a `PushHub` (the component behind the route) is told of each connection, each decoded
client message and each close.
"""

from __future__ import annotations

import logging
import random
from typing import TYPE_CHECKING, Any, Protocol

import msgspec

from gateway.transports.http import JSON_TYPE, BaseHandler
from gateway.transports.wsconn import FramedConnection, refuse_upgrade, take_over

if TYPE_CHECKING:
    from gateway.transports.host import TransportHost

log = logging.getLogger(__name__)
_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode

SOCKJS_HEARTBEAT = 25.0


class PushHub(Protocol):
    """What the push route serves: the transport reports, the hub decides what to send."""

    def opened(self, conn: PushConnection) -> None: ...

    def received(self, conn: PushConnection, message: object) -> None:
        """One decoded JSON value sent by the client."""

    def closed(self, conn: PushConnection) -> None: ...


class PushConnection(FramedConnection):
    """One push client. `user` is who the HTTP upgrade authenticated (None if nobody);
    the hub may set it later (an `auth` message). `state` is the hub's."""

    def __init__(self, hub: PushHub, ip: str, user: dict[str, object] | None,
                 sockjs: bool, max_message_size: int) -> None:
        super().__init__(ip, max_message_size)
        self.hub = hub
        self.user = user
        self.sockjs = sockjs
        # per-connection state the push hub keeps (throttle, timestamps)
        self.state: dict[str, Any] = {}
        if sockjs:
            self.ping_interval = SOCKJS_HEARTBEAT

    @property
    def open(self) -> bool:
        return self.is_open

    def on_open(self) -> bool:
        if self.sockjs:
            self.write_text(b"o")
        self.hub.opened(self)
        return True

    def on_message(self, data: str | bytes) -> None:
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

    def on_closed(self) -> None:
        self.hub.closed(self)

    def is_authenticated(self) -> bool:
        return self.user is not None

    def closing_message(self, code: int, reason: str) -> bytes | None:
        return b"c" + _encode([code, reason]) if self.sockjs else None

    def keepalive(self) -> None:
        if self.sockjs:
            self.write_text(b"h")  # SockJS's heartbeat frame
        else:
            super().keepalive()

    # -- sending ------------------------------------------------------------------------

    def send_message(self, payload: bytes) -> None:
        """One JSON-encoded message (a hub encodes a broadcast once for all clients)."""
        if not self.open:
            return
        if self.sockjs:
            self.write_text(b"a" + _encode([payload.decode("utf-8")]))
        else:
            self.write_text(payload)

    def send(self, message: object) -> None:
        self.send_message(_encode(message))


class PushUpgradeHandler(BaseHandler):
    """`/sockjs/websocket` (raw) and `/sockjs/<server>/<session>/websocket` (SockJS).
    Public: a client without credentials may connect; the hub sends it nothing of the
    printer until it authenticates with a message."""

    public = True
    hub: PushHub
    sockjs: bool

    def initialize(self, server: TransportHost, hub: PushHub, sockjs: bool = False) -> None:  # type: ignore[override]
        super().initialize(server)
        self.hub = hub
        self.sockjs = sockjs

    async def get(self, *args: str, **kwargs: str) -> None:
        if refuse_upgrade(self):
            return
        limit = self.server.server_config.max_websocket_message_size * 1024
        protocol = PushConnection(self.hub, self.request.remote_ip or "", self.user,
                                  self.sockjs, limit)
        protocol.gate = self.server.connections.gate
        await take_over(self, protocol)


class SockJsInfoHandler(BaseHandler):
    """`GET /sockjs/info`: what a SockJS client asks before choosing a transport."""

    public = True

    def get(self, *args: str, **kwargs: str) -> None:
        self.set_header("Content-Type", JSON_TYPE)
        self.set_header("Cache-Control", "no-store, no-cache, must-revalidate, max-age=0")
        self.finish(_encode({"websocket": True, "cookie_needed": False,
                             "origins": ["*:*"], "entropy": random.getrandbits(31)}))


def routes(hub: PushHub) -> list[tuple[str, type[BaseHandler], dict[str, object]]]:
    """The Tornado routes of the push channel, for `server.add_http_route`."""
    return [
        (r"/sockjs/info", SockJsInfoHandler, {}),
        (r"/sockjs/websocket", PushUpgradeHandler, {"hub": hub, "sockjs": False}),
        (r"/sockjs/[^/.]+/[^/.]+/websocket", PushUpgradeHandler, {"hub": hub, "sockjs": True}),
    ]
