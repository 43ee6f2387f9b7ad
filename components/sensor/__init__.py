"""[sensor NAME] sources (MQTT topics, the printer's own extra sensors) with Moonraker's
server.sensors.* API, notify_sensor_update and per-job history fields."""

from __future__ import annotations

from typing import TYPE_CHECKING

from components.history.api import HistoryApi
from components.mqtt.api import MqttApi
from components.printer.api import PrinterApi
from gateway.component import ComponentSpec

if TYPE_CHECKING:
    from components.sensor.component import SensorComponent
    from gateway.api import ServerApi

__all__ = ["COMPONENT", "load_component"]


def load_component(server: ServerApi) -> SensorComponent:
    from components.sensor.component import SensorComponent

    return SensorComponent(server)


COMPONENT = ComponentSpec(load_component, wants=(PrinterApi, MqttApi, HistoryApi))
