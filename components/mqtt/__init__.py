"""MQTT: Moonraker's JSON-RPC API over a broker, the server's online/offline state topic
with a last will, and printer status publishing (see docs/fleet.md and component.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from components.mqtt.api import MqttApi
from components.printer.api import PrinterApi
from gateway.component import ComponentSpec

if TYPE_CHECKING:
    from components.mqtt.component import MqttComponent
    from gateway.api import ServerApi

__all__ = ["COMPONENT", "load_component"]


def load_component(server: ServerApi) -> MqttComponent:
    # aiomqtt and paho are imported only when [mqtt] is configured
    from components.mqtt.component import MqttComponent

    return MqttComponent(server)


COMPONENT = ComponentSpec(load_component, provides=(MqttApi,), wants=(PrinterApi,))
