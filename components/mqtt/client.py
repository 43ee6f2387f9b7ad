"""The broker connection: connects, reconnects with back-off, re-subscribes, and sends
what is queued. Nobody waits on it: `publish` only queues (bounded; the oldest message
is dropped when full) and `subscribe` only records the wish.

The connection is one task (`run`). While it is up, a reader hands incoming messages to
the subscribers' callbacks and a writer drains the outgoing queue. A broker that is down
or goes away is a warning (once per outage), never an error: the loop retries after
1, 2, 4 … 30 seconds, and from the start again once a connection succeeded.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field

import aiomqtt
import msgspec

from gateway.tasks import Background

log = logging.getLogger(__name__)

PROTOCOLS = {
    "v3.1": aiomqtt.ProtocolVersion.V31,
    "v3.1.1": aiomqtt.ProtocolVersion.V311,
    "v5": aiomqtt.ProtocolVersion.V5,
}
OUTGOING_LIMIT = 2000
PUBLISH_TIMEOUT = 10.0
BACKOFF_FIRST = 1.0
BACKOFF_MAX = 30.0
KEEPALIVE = 30

MessageCallback = Callable[[bytes], None]
_encode = msgspec.json.encode


class _NetworkTrouble(logging.Filter):
    """paho logs a broker going away ("failed to receive on socket: Connection reset")
    as an error; for us a broker that is down is a warning."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.WARNING:
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


PAHO_LOG = logging.getLogger("components.mqtt.paho")
PAHO_LOG.addFilter(_NetworkTrouble())


def encode_payload(payload: object) -> bytes:
    """Moonraker's rules: None is an empty payload, bytes and strings go as they are,
    everything else (numbers, booleans, objects, arrays) is JSON."""
    if payload is None:
        return b""
    if isinstance(payload, bytes):
        return payload
    if isinstance(payload, str):
        return payload.encode()
    return _encode(payload)


@dataclass(slots=True)
class BrokerSettings:
    address: str
    port: int = 1883
    client_id: str | None = None
    username: str | None = None
    password: str | None = None
    protocol: str = "v3.1.1"
    tls: bool = False
    # the last will: published by the broker when we vanish without a goodbye
    will_topic: str | None = None
    will_payload: bytes = b""
    will_qos: int = 0


@dataclass(slots=True)
class _Subscription:
    qos: int
    callbacks: list[MessageCallback] = field(default_factory=list)


@dataclass(slots=True)
class _Outgoing:
    topic: str
    payload: bytes
    qos: int
    retain: bool
    done: asyncio.Future[None] | None = None


class BrokerClient:
    def __init__(self, settings: BrokerSettings,
                 on_connected: Callable[[], None] | None = None) -> None:
        self.settings = settings
        self._on_connected = on_connected
        self._subscriptions: dict[str, _Subscription] = {}
        self._outgoing: asyncio.Queue[_Outgoing] = asyncio.Queue(OUTGOING_LIMIT)
        self._client: aiomqtt.Client | None = None
        self._task: asyncio.Task[None] | None = None
        self._tasks = Background("MQTT broker request", logger=log)
        self.connected = asyncio.Event()
        # topics the broker has acknowledged on this connection
        self.acknowledged: set[str] = set()
        self.dropped = 0
        self.connects = 0
        self._stopping = False

    # -- what callers use -------------------------------------------------------------

    @property
    def is_connected(self) -> bool:
        return self.connected.is_set()

    def publish(self, topic: str, payload: object = None, qos: int = 0,
                retain: bool = False) -> None:
        """Queue a message; never waits. When full, the oldest queued message goes."""
        self._put(_Outgoing(topic, encode_payload(payload), qos, retain))

    async def publish_wait(self, topic: str, payload: object = None, qos: int = 0,
                           retain: bool = False) -> None:
        """Queue a message and wait until the broker took it (acknowledged for QoS>0)."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._put(_Outgoing(topic, encode_payload(payload), qos, retain, done))
        await done

    def _put(self, message: _Outgoing) -> None:
        while True:
            try:
                self._outgoing.put_nowait(message)
                return
            except asyncio.QueueFull:
                old = self._outgoing.get_nowait()
                if old.done is not None and not old.done.done():
                    old.done.set_exception(ConnectionError("MQTT outgoing queue overflow"))
                if self.dropped == 0:
                    log.warning("MQTT: outgoing queue full (%d); dropping the oldest messages",
                                OUTGOING_LIMIT)
                self.dropped += 1

    def subscribe(self, topic: str, callback: MessageCallback, qos: int = 0) -> None:
        sub = self._subscriptions.get(topic)
        if sub is None:
            sub = self._subscriptions[topic] = _Subscription(qos)
            if self._client is not None and self.is_connected:
                self._spawn(self._broker_subscribe(self._client, topic, qos))
        sub.callbacks.append(callback)

    def unsubscribe(self, topic: str, callback: MessageCallback) -> None:
        sub = self._subscriptions.get(topic)
        if sub is None or callback not in sub.callbacks:
            return
        sub.callbacks.remove(callback)
        if not sub.callbacks:
            del self._subscriptions[topic]
            if self._client is not None and self.is_connected:
                self._spawn(self._broker_unsubscribe(self._client, topic))

    # -- life cycle -------------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="mqtt")

    async def stop(self, goodbye: tuple[str, bytes, int] | None = None) -> None:
        """Stop; `goodbye` (topic, payload, qos) is published retained first if connected,
        so a clean stop says what the last will would have said."""
        self._stopping = True
        client = self._client
        if goodbye is not None and client is not None and self.is_connected:
            topic, payload, qos = goodbye
            with contextlib.suppress(aiomqtt.MqttError, TimeoutError):
                await client.publish(topic, payload, qos, retain=True, timeout=2.0)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._tasks.cancel()
        while not self._outgoing.empty():
            message = self._outgoing.get_nowait()
            if message.done is not None and not message.done.done():
                message.done.set_exception(ConnectionError("MQTT client stopped"))

    async def _run(self) -> None:
        delay = BACKOFF_FIRST
        outage_reported = False
        while not self._stopping:
            try:
                await self._session()
                reason = "connection closed"
            except aiomqtt.MqttError as exc:
                reason = str(exc) or type(exc).__name__
            except OSError as exc:
                reason = exc.strerror or str(exc)
            if self._stopping:
                return
            was_connected = self.connected.is_set()
            self.connected.clear()
            self._client = None
            if was_connected:
                # a lost connection starts a new outage, retried soon
                delay, outage_reported = BACKOFF_FIRST, False
            s = self.settings
            if not outage_reported:
                log.warning("MQTT: broker %s:%d %s (%s); retrying in %.0f s",
                            s.address, s.port, "lost" if was_connected else "unreachable",
                            reason, delay)
                outage_reported = True
            else:
                log.debug("MQTT: broker still unreachable (%s); retrying in %.0f s",
                          reason, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, BACKOFF_MAX)

    def _make_client(self) -> aiomqtt.Client:
        s = self.settings
        will = None
        if s.will_topic is not None:
            will = aiomqtt.Will(s.will_topic, s.will_payload, s.will_qos, retain=True)
        return aiomqtt.Client(
            s.address, s.port, username=s.username, password=s.password,
            identifier=s.client_id, protocol=PROTOCOLS[s.protocol], will=will,
            keepalive=KEEPALIVE, timeout=10,
            tls_context=ssl.create_default_context() if s.tls else None,
            logger=PAHO_LOG,
        )

    async def _session(self) -> None:
        async with self._make_client() as client:
            self._client = client
            self.connects += 1
            self.acknowledged.clear()
            # until `connected` is set, subscribe() only records; a topic recorded while
            # this loop awaits the broker is taken in the next round, and `connected` is
            # set with no await after the last round, so no topic falls in between
            while todo := [(topic, sub.qos) for topic, sub in self._subscriptions.items()
                           if topic not in self.acknowledged]:
                for topic, qos in todo:
                    await client.subscribe(topic, qos)
                    self.acknowledged.add(topic)
            self.connected.set()
            s = self.settings
            log.info("MQTT: connected to %s:%d", s.address, s.port)
            if self._on_connected is not None:
                self._on_connected()
            writer = asyncio.get_running_loop().create_task(self._write(client))
            try:
                async for message in client.messages:
                    self._deliver(str(message.topic), message.payload)
            finally:
                writer.cancel()
                with contextlib.suppress(asyncio.CancelledError, aiomqtt.MqttError):
                    await writer

    def _deliver(self, topic: str, payload: object) -> None:
        sub = self._subscriptions.get(topic)
        if sub is None:
            return
        data = payload if isinstance(payload, bytes) else encode_payload(payload)
        for callback in list(sub.callbacks):
            try:
                callback(data)
            except Exception:
                log.exception("MQTT: handler for %s failed", topic)

    async def _write(self, client: aiomqtt.Client) -> None:
        while True:
            message = await self._outgoing.get()
            try:
                await client.publish(message.topic, message.payload, message.qos,
                                     message.retain, timeout=PUBLISH_TIMEOUT)
            except (aiomqtt.MqttError, TimeoutError) as exc:
                if message.done is not None and not message.done.done():
                    message.done.set_exception(ConnectionError(f"MQTT publish failed: {exc}"))
                if not self.is_connected:
                    return
                continue
            if message.done is not None and not message.done.done():
                message.done.set_result(None)

    async def _broker_subscribe(self, client: aiomqtt.Client, topic: str, qos: int) -> None:
        try:
            await client.subscribe(topic, qos, timeout=PUBLISH_TIMEOUT)
        except (aiomqtt.MqttError, TimeoutError) as exc:
            # a lost connection re-subscribes everything when it comes back
            log.warning("MQTT: subscribing to %s failed (%s)", topic,
                        str(exc) or type(exc).__name__)
            return
        if topic in self._subscriptions:
            self.acknowledged.add(topic)

    async def _broker_unsubscribe(self, client: aiomqtt.Client, topic: str) -> None:
        self.acknowledged.discard(topic)
        with contextlib.suppress(aiomqtt.MqttError, TimeoutError):
            await client.unsubscribe(topic, timeout=PUBLISH_TIMEOUT)

    def _spawn(self, coro: Coroutine[object, object, object]) -> None:
        self._tasks.spawn(coro)
