"""The MQTT component: a broker connection shared by the API transport, the state topic,
status publishing, and the power and sensor devices that speak MQTT (api.MqttApi).

Topics (instance = [mqtt] instance_name):
  {instance}/moonraker/status         {"server": "online"} retained on connect;
                                      {"server": "offline"} retained on a clean stop,
                                      and as the last will when the process dies
  {instance}/moonraker/api/request    JSON-RPC requests (enable_moonraker_api)
  {instance}/moonraker/api/response   their answers
  {instance}/moonraker/api/notification  every notification the websockets get
  {instance}/klipper/status           printer status (status_objects), see status.py
  {instance}/klipper/state/{obj}/{f}  the same per field (publish_split_status)

The printer's status comes from its own subscriptions (printer.objects.subscribe through
the method table, on behalf of an internal connection), renewed whenever the printer
becomes ready. Nothing here makes the printer wait: every publish is queued.

Events consumed: PrinterStateChanged. Events emitted: MqttConnected (api.py).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, cast

import msgspec

from components.mqtt.api import MessageCallback, MqttApi, MqttConnected
from components.mqtt.client import BrokerClient, BrokerSettings
from components.mqtt.config import MqttSection, parse_status_objects
from components.mqtt.rpc import ApiRequests, MqttConnection
from components.mqtt.status import StatusPublisher
from components.printer.api import PrinterApi, PrinterStateChanged
from gateway.component import BaseComponent
from gateway.config import ConfigError
from gateway.errors import BadRequest, ServerError
from gateway.request import Caller, Transport
from gateway.tasks import Background
from gateway.transports.connection import Connection
from gateway.transports.jsonrpc import JsonRpcDispatcher

if TYPE_CHECKING:
    from gateway.api import ServerApi
    from gateway.transports.host import TransportHost

log = logging.getLogger(__name__)

_decode = msgspec.json.Decoder().decode
ONLINE = b'{"server":"online"}'
OFFLINE = b'{"server":"offline"}'


class _StatusSink(Connection):
    """The internal 'connection' the printer pushes our status subscription to."""

    def __init__(self, on_status: Callable[[dict[str, Mapping[str, object]], float], None]
                 ) -> None:
        super().__init__("internal:mqtt-status")
        self._on_status = on_status

    def send_bytes(self, data: bytes) -> None:
        message = _decode(data)
        params = message.get("params") if isinstance(message, dict) else None
        if message.get("method") == "notify_status_update" and params:
            self._on_status(params[0], float(params[1]))

    def close(self, code: int, reason: str) -> None:
        """Nothing to close."""


class MqttComponent(BaseComponent, MqttApi):
    moonraker_names = ("mqtt",)

    def __init__(self, server: ServerApi) -> None:
        self.server = server
        cfg = self.config = server.config.section("mqtt", MqttSection)
        try:
            password = cfg.read_password()
        except ValueError as exc:
            raise ConfigError(f"[mqtt] {exc}") from None
        instance = cfg.instance_name
        self.state_topic = f"{instance}/moonraker/status"
        self.request_topic = f"{instance}/moonraker/api/request"
        self.response_topic = f"{instance}/moonraker/api/response"
        self.notification_topic = f"{instance}/moonraker/api/notification"
        self.client = BrokerClient(BrokerSettings(
            address=cfg.address, port=cfg.port, client_id=cfg.client_id,
            username=cfg.username, password=password, protocol=cfg.mqtt_protocol,
            tls=cfg.enable_tls, will_topic=self.state_topic, will_payload=OFFLINE,
            will_qos=cfg.default_qos,
        ), on_connected=self._on_connected)
        self.status_objects = parse_status_objects(cfg.status_objects)
        self.status = StatusPublisher(
            instance, self._publish_status, split=cfg.publish_split_status,
            interval=cfg.status_interval)
        self._sink = _StatusSink(self.status.update)
        self.connection = MqttConnection(cfg.address, self._send_notification)
        # the websocket's JSON-RPC rules over the same method table; the dispatcher uses
        # nothing of its host but the registry
        dispatcher = JsonRpcDispatcher(cast("TransportHost", _RegistryOnly(server)))
        self.api = ApiRequests(dispatcher, self.connection, self._send_response)
        if cfg.enable_moonraker_api:
            self.client.subscribe(self.request_topic, self.api.handle, cfg.qos_api)
        self._unsubscribe: list[Callable[[], None]] = [
            server.events.subscribe(PrinterStateChanged, self._on_printer_state)]
        self._tasks = Background("MQTT status subscription", logger=log)
        from components.mqtt.endpoints import register

        register(server, self)

    # -- MqttApi ------------------------------------------------------------------------

    @property
    def instance_name(self) -> str:
        return self.config.instance_name

    @property
    def default_qos(self) -> int:
        return self.config.default_qos

    @property
    def is_connected(self) -> bool:
        return self.client.is_connected

    def publish(self, topic: str, payload: object = None, qos: int | None = None,
                retain: bool = False) -> None:
        self.client.publish(topic, payload, self._qos(qos), retain)

    async def publish_wait(self, topic: str, payload: object = None, qos: int | None = None,
                           retain: bool = False) -> None:
        await self.client.publish_wait(topic, payload, self._qos(qos), retain)

    def subscribe(self, topic: str, callback: MessageCallback, qos: int | None = None) -> None:
        self.client.subscribe(topic, callback, self._qos(qos))

    def unsubscribe(self, topic: str, callback: MessageCallback) -> None:
        self.client.unsubscribe(topic, callback)

    def _qos(self, qos: int | None) -> int:
        if qos is None:
            return self.config.default_qos
        if qos not in (0, 1, 2):
            raise BadRequest(f"Invalid qos {qos}: expected 0, 1 or 2")
        return qos

    # -- life cycle ---------------------------------------------------------------------

    async def start(self) -> None:
        self.client.start()
        if self.config.publish_notifications:
            self.server.connections.taps.append(self._send_notification)
        self._subscribe_status()

    async def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        with contextlib.suppress(ValueError):
            self.server.connections.taps.remove(self._send_notification)
        await self._tasks.cancel()
        self.status.close()
        # a clean stop says what the last will would: this server is offline
        await self.client.stop(goodbye=(self.state_topic, OFFLINE, self.config.default_qos))

    def _on_connected(self) -> None:
        self.client.publish(self.state_topic, ONLINE, self.config.default_qos, retain=True)
        self.server.events.emit(MqttConnected())

    # -- outgoing -----------------------------------------------------------------------

    def _send_response(self, frame: bytes) -> None:
        self.client.publish(self.response_topic, frame, self.config.qos_api)

    def _send_notification(self, frame: bytes) -> None:
        self.client.publish(self.notification_topic, frame, self.config.qos_api)

    def _publish_status(self, topic: str, payload: object, retain: bool) -> None:
        self.client.publish(topic, payload, self.config.default_qos, retain)

    # -- printer status -----------------------------------------------------------------

    def _on_printer_state(self, event: PrinterStateChanged) -> None:
        if event.state == "ready":
            self._subscribe_status()
        elif event.state in ("disconnected", "shutdown", "error"):
            self.status.flush()

    def _subscribe_status(self) -> None:
        printer = self.server.find(PrinterApi)
        if not self.status_objects or printer is None or printer.state != "ready":
            return
        self._tasks.spawn(self._status_subscription())

    async def _status_subscription(self) -> None:
        """printer.objects.subscribe through the method table for our sink; the answer
        is the full status, published at once."""
        caller = Caller(ip="internal", transport=Transport.INTERNAL, connection=self._sink)
        try:
            result = await self.server.registry.call(
                "printer.objects.subscribe", {"objects": self.status_objects}, caller)
        except ServerError as exc:
            log.warning("MQTT: printer status subscription failed: %s", exc.message)
            return
        if isinstance(result, dict):
            self.status.update(result.get("status", {}), float(result.get("eventtime", 0.0)))


class _RegistryOnly:
    def __init__(self, server: ServerApi) -> None:
        self.registry = server.registry
