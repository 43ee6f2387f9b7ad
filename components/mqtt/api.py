"""What other components (power, sensor) may rely on from the MQTT component
(`server.components["mqtt"]`). Call through this; never into the client.

Events (server.events): MqttConnected (the broker connection is (re)established, the
subscriptions restored).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

from gateway.events import BusEvent

MessageCallback = Callable[[bytes], None]


class MqttConnected(BusEvent, frozen=True):
    """The broker connection is up (again); subscriptions are restored."""


@runtime_checkable
class MqttApi(Protocol):
    @property
    def instance_name(self) -> str:
        """The configured instance name (topic prefix)."""

    @property
    def default_qos(self) -> int:
        """[mqtt] default_qos."""

    @property
    def is_connected(self) -> bool:
        """Whether the broker connection is up now."""

    def publish(self, topic: str, payload: object = None, qos: int | None = None,
                retain: bool = False) -> None:
        """Queue a message (never waits; str/bytes as is, None empty, else JSON)."""

    async def publish_wait(self, topic: str, payload: object = None, qos: int | None = None,
                           retain: bool = False) -> None:
        """Queue a message and wait until the broker took it."""

    def subscribe(self, topic: str, callback: MessageCallback, qos: int | None = None) -> None:
        """Call `callback(payload)` for every message on `topic` (kept across reconnects)."""

    def unsubscribe(self, topic: str, callback: MessageCallback) -> None: ...
