"""The JSON-RPC API over MQTT: requests on `{instance}/moonraker/api/request`, answers on
`…/api/response`, notifications on `…/api/notification`.

Requests go through the server's JSON-RPC dispatcher, so the one method table, its
parameter checks and its access rules apply as for a websocket. The MQTT side is one
long-lived "connection" (trusted: whoever may publish on the broker's request topic is
trusted, as in Moonraker), so `printer.objects.subscribe` over MQTT works too, its
updates arriving on the notification topic.

Moonraker's duplicate filter: a request may carry `mqtt_timestamp` in its params; a
timestamp seen among the last 20 is refused with code -10000 (QoS 1 may deliver twice).
"""

from __future__ import annotations

import collections
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import msgspec

from gateway.request import Caller, Transport
from gateway.transports.connection import Connection
from gateway.transports.jsonrpc import error_frame

if TYPE_CHECKING:
    from gateway.transports.jsonrpc import JsonRpcDispatcher

DUPLICATE_CODE = -10000
_decode = msgspec.json.Decoder().decode
_encode = msgspec.json.Encoder().encode

Send = Callable[[bytes], None]


class MqttConnection(Connection):
    """The MQTT transport as the method table sees it: one trusted connection whose
    per-connection pushes (status subscriptions) go to the notification topic."""

    def __init__(self, address: str, send_notification: Send) -> None:
        super().__init__(f"mqtt:{address}")
        self.client_info = {"client_name": "mqtt", "type": "mqtt"}
        self._send = send_notification

    def send_bytes(self, data: bytes) -> None:
        self._send(data)

    def close(self, code: int, reason: str) -> None:
        """Nothing to close: the broker connection belongs to the component."""


class ApiRequests:
    def __init__(self, dispatcher: JsonRpcDispatcher, connection: MqttConnection,
                 respond: Send) -> None:
        self.dispatcher = dispatcher
        self.connection = connection
        self.caller = Caller(ip=connection.ip, transport=Transport.MQTT, connection=connection)
        self._respond = respond
        self._timestamps: collections.deque[Any] = collections.deque(maxlen=20)

    def handle(self, payload: bytes) -> None:
        payload, duplicate_id = self._screen(payload)
        if duplicate_id is not _NOT_DUPLICATE:
            self._respond(error_frame(DUPLICATE_CODE, "Duplicate MQTT Request", duplicate_id))
            return
        self.dispatcher.handle(payload, self.caller, self._respond)

    def _screen(self, payload: bytes) -> tuple[bytes, Any]:
        """Strip `mqtt_timestamp`: (the request to run, the request id if the timestamp
        was seen before, else _NOT_DUPLICATE)."""
        if b"mqtt_timestamp" not in payload:
            return payload, _NOT_DUPLICATE
        try:
            message = _decode(payload)
        except (msgspec.DecodeError, UnicodeDecodeError):
            return payload, _NOT_DUPLICATE
        if not isinstance(message, dict) or not isinstance(message.get("params"), dict):
            return payload, _NOT_DUPLICATE
        stamp = message["params"].pop("mqtt_timestamp", None)
        if stamp is not None and stamp in self._timestamps:
            return payload, message.get("id")
        if stamp is not None:
            self._timestamps.append(stamp)
        return _encode(message), _NOT_DUPLICATE


_NOT_DUPLICATE: object = object()
