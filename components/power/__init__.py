"""[power NAME] devices: gpio, tasmota, shelly, homeassistant, http, mqtt and the
printer's own supply (marlin), with Moonraker's machine.device_power.* API."""

from __future__ import annotations

from typing import TYPE_CHECKING

from components.mqtt.api import MqttApi
from components.printer.api import PrinterApi
from gateway.component import ComponentSpec

if TYPE_CHECKING:
    from components.power.component import PowerComponent
    from gateway.api import ServerApi

__all__ = ["COMPONENT", "load_component"]


def load_component(server: ServerApi) -> PowerComponent:
    from components.power.component import PowerComponent

    return PowerComponent(server)


COMPONENT = ComponentSpec(load_component, wants=(PrinterApi, MqttApi))
