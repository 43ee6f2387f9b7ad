"""WS281x / NeoPixel status lights driven by the printer's state (see docs/led.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from components.printer.api import PrinterApi
from gateway.component import ComponentSpec

if TYPE_CHECKING:
    from components.led.component import LedComponent
    from gateway.api import ServerApi

__all__ = ["COMPONENT", "load_component"]


def load_component(server: ServerApi) -> LedComponent:
    # imported here: without a [led] section none of the LED code is loaded
    from components.led.component import LedComponent

    return LedComponent(server)


# loaded with a [led] section; works without a printer ("disconnected")
COMPONENT = ComponentSpec(load_component, wants=(PrinterApi,))
