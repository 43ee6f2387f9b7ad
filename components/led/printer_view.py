"""From the printer's status objects to LED conditions: which printer layers hold now, and
the progress values the progress bars show.

`PrinterTracker.observe(state, status, now)` is fed a `webhooks` state and a
`query_status` result on every frame tick (and `job_finished` from the JobFinished event);
it remembers only what the status objects cannot say: when a heater's current target was
set (to fill the heating bar from there) and when the last print ended (to show complete
or cancelled for a while).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from components.led.precedence import Layer

# what the LED component asks the printer for on every tick
STATUS_QUERY: dict[str, list[str] | None] = {
    "print_stats": None,
    "extruder": ["temperature", "target"],
    "heater_bed": ["temperature", "target"],
    "virtual_sdcard": ["progress"],
    "webhooks": None,
}

# heaters in the order their heating is shown: the bed first, then the hotend
HEATERS = ("heater_bed", "extruder")
_ENDED = {"complete": Layer.COMPLETE, "cancelled": Layer.CANCELLED, "error": Layer.ERROR}
_JOB_STATUS = {"completed": "complete", "cancelled": "cancelled", "error": "error",
               "klippy_shutdown": "error"}


@dataclass(slots=True)
class PrinterView:
    """What the strip needs to know of the printer at one moment."""

    layers: frozenset[Layer]
    print_progress: float = 0.0
    heating_progress: float = 0.0
    heating: str | None = None  # "heater_bed" / "extruder" while heating


@dataclass(slots=True)
class _Heat:
    target: float = 0.0
    start: float = 0.0
    reached: bool = True


@dataclass
class PrinterTracker:
    complete_time: float = 60.0
    cancelled_time: float = 30.0
    error_time: float = 0.0
    heating_tolerance: float = 2.0
    _heat: dict[str, _Heat] = field(default_factory=dict)
    _print_state: str | None = None
    _ended: tuple[str, float] | None = None

    def job_finished(self, status: str, now: float) -> None:
        """From the JobFinished event: the print ended `now` with Moonraker's status."""
        kind = _JOB_STATUS.get(status)
        if kind is not None and self._ended is None:
            self._ended = (kind, now)

    def observe(self, state: str, status: Mapping[str, Mapping[str, object]],
                now: float) -> PrinterView:
        if state in ("error", "shutdown"):
            return PrinterView(frozenset({Layer.ERROR, Layer.IDLE}))
        if state != "ready":
            return PrinterView(frozenset({Layer.DISCONNECTED, Layer.IDLE}))
        layers = {Layer.IDLE}
        print_state = str(status.get("print_stats", {}).get("state", "standby"))
        self._track_print_state(print_state, now)
        progress = _number(status.get("virtual_sdcard", {}).get("progress"))
        if print_state == "printing":
            layers.add(Layer.PRINTING)
        elif print_state == "paused":
            layers.add(Layer.PAUSED)
        elif print_state in _ENDED and self._ended is not None:
            kind, ended_at = self._ended
            if kind == print_state and self._still_shown(kind, now - ended_at):
                layers.add(_ENDED[kind])
        if print_state == "complete":
            progress = 1.0
        view = PrinterView(frozenset(layers), print_progress=max(0.0, min(1.0, progress)))
        self._track_heaters(status, view)
        return view

    def _still_shown(self, kind: str, age: float) -> bool:
        limit = {"complete": self.complete_time, "cancelled": self.cancelled_time,
                 "error": self.error_time}[kind]
        return limit == 0 or age < limit

    def _track_print_state(self, print_state: str, now: float) -> None:
        previous, self._print_state = self._print_state, print_state
        if print_state in ("printing", "paused"):
            self._ended = None
        elif (print_state in _ENDED and previous is not None and previous != print_state
              and self._ended is None):
            # the print ended between two ticks and no JobFinished told us yet
            self._ended = (print_state, now)

    def _track_heaters(self, status: Mapping[str, Mapping[str, object]],
                       view: PrinterView) -> None:
        for name in HEATERS:
            fields = status.get(name)
            if fields is None:
                continue
            temp = _number(fields.get("temperature"))
            target = _number(fields.get("target"))
            heat = self._heat.setdefault(name, _Heat())
            if target != heat.target:
                # a new target: the bar fills from the temperature it was set at
                heat.target, heat.start = target, temp
                heat.reached = target <= 0 or temp >= target - self.heating_tolerance
            elif not heat.reached and temp >= target - self.heating_tolerance:
                heat.reached = True
            if not heat.reached and view.heating is None:
                view.heating = name
                span = target - heat.start
                view.heating_progress = 1.0 if span <= 0 else max(
                    0.0, min(1.0, (temp - heat.start) / span))
        if view.heating is not None:
            view.layers = view.layers | {Layer.HEATING}


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0.0
    number = float(value)
    return number if math.isfinite(number) else 0.0
