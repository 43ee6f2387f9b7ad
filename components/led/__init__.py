"""WS281x / NeoPixel status lights driven by the printer's state (see docs/led.md)."""

from __future__ import annotations

from components.led.component import LedComponent, load_component

__all__ = ["LedComponent", "load_component"]
