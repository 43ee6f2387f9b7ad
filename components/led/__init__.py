"""WS281x / NeoPixel status lights driven by the printer's state (see docs/led.md)."""

from __future__ import annotations

from components.led.component import LedComponent, load_component
from components.printer.api import PrinterApi
from gateway.component import ComponentSpec

__all__ = ["COMPONENT", "LedComponent", "load_component"]

# loaded with a [led] section; works without a printer ("disconnected")
COMPONENT = ComponentSpec(load_component, wants=(PrinterApi,))
