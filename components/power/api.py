"""The power component's event (its interface to call is Moonraker's power API)."""

from __future__ import annotations

from gateway.events import BusEvent


class PowerChanged(BusEvent, frozen=True):
    """A device's state changed: "on", "off", "init" or "error"."""

    device: str
    state: str
