"""The sensor component's event (its interface to call is Moonraker's sensor API)."""

from __future__ import annotations

from gateway.events import BusEvent


class SensorsUpdated(BusEvent, frozen=True):
    """Sensors whose values changed this second: {sensor_id: {parameter: value}}."""

    values: dict[str, dict[str, float]]
