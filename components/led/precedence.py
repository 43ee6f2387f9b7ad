"""What the strip shows when several conditions hold at once: ONE table, highest first.

Every condition that holds is collected (lights switched off, torch on, outside active
hours, printer error, ...); the first of them in `PRECEDENCE` wins. IDLE always holds, so
there is always a winner.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable


class Layer(enum.Enum):
    LIGHTS_OFF = "lights_off"  # the lights_off command
    TORCH = "torch"  # torch mode: full white
    INACTIVE = "inactive"  # outside the configured active hours: dark
    ERROR = "error"  # printer halted/shut down, or the print failed
    MANUAL = "manual"  # SET_LED from the console or test_led from the API
    DISCONNECTED = "disconnected"  # no printer, or not connected / starting up
    PAUSED = "paused"
    HEATING = "heating"  # a heater is on its way to its target
    PRINTING = "printing"
    CANCELLED = "cancelled"  # for cancelled_time after a cancel
    COMPLETE = "complete"  # for complete_time after a print finished
    IDLE = "idle"


PRECEDENCE: tuple[Layer, ...] = (
    Layer.LIGHTS_OFF,
    Layer.TORCH,
    Layer.INACTIVE,
    Layer.ERROR,
    Layer.MANUAL,
    Layer.DISCONNECTED,
    Layer.PAUSED,
    Layer.HEATING,
    Layer.PRINTING,
    Layer.CANCELLED,
    Layer.COMPLETE,
    Layer.IDLE,
)

_RANK = {layer: rank for rank, layer in enumerate(PRECEDENCE)}

# the layers that describe the printer (the rest are the user's switches and overrides)
PRINTER_LAYERS = frozenset({
    Layer.ERROR, Layer.DISCONNECTED, Layer.PAUSED, Layer.HEATING, Layer.PRINTING,
    Layer.CANCELLED, Layer.COMPLETE, Layer.IDLE,
})


def resolve(active: Iterable[Layer]) -> Layer:
    """The winning layer among those active (IDLE when none is)."""
    return min(active, key=_RANK.__getitem__, default=Layer.IDLE)
