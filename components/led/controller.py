"""The strip's state: the user's switches (lights, torch, manual colours) plus the
printer's view, resolved through the precedence table into what to show.

Nothing here reads a clock: every method that depends on time takes `now` (monotonic
seconds) and, for active hours, the local wall-clock time.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass

from components.led.colors import Frame
from components.led.config import LedSection
from components.led.effects import Look, is_animated, render
from components.led.precedence import PRINTER_LAYERS, Layer, resolve
from components.led.printer_view import PrinterView


@dataclass(frozen=True, slots=True)
class Scene:
    """What the strip shows now: a layer with its look and progress, or manual pixels."""

    layer: Layer
    look: Look
    progress: float = 0.0
    manual: tuple[tuple[int, int, int, int], ...] | None = None

    @property
    def animated(self) -> bool:
        return self.manual is None and is_animated(self.look)

    def frame(self, count: int, t: float) -> Frame:
        if self.manual is not None:
            return list(self.manual)
        return render(self.look, count, t, self.progress)


def within_hours(start: datetime.time, end: datetime.time, now: datetime.time) -> bool:
    """Is `now` inside [start, end)? A window past midnight (22:00-06:00) wraps."""
    if start == end:
        return True
    if start < end:
        return start <= now < end
    return now >= start or now < end


class LedController:
    def __init__(self, config: LedSection) -> None:
        self.count = config.led_count
        self.torch_mode = config.torch_mode
        self.torch_time = config.torch_time
        self.hours = config.active_hours()
        self.looks = config.looks()
        self.lights_on = config.lights_on_at_start
        self._torch_until: float | None = None
        self._manual: Frame | None = None
        # the printer layer at the time the manual colours were set: they last until it changes
        self._manual_under: Layer | None = None

    # -- switches -----------------------------------------------------------------------

    def set_lights(self, on: bool) -> None:
        self.lights_on = on
        self.clear_manual()

    def torch_on(self, now: float) -> None:
        """Toggle mode: on until torch_off. Timed mode: on for torch_time from now."""
        self._torch_until = math.inf if self.torch_mode == "toggle" else now + self.torch_time

    def torch_off(self) -> None:
        self._torch_until = None

    def torch_active(self, now: float) -> bool:
        if self._torch_until is not None and now >= self._torch_until:
            self._torch_until = None
        return self._torch_until is not None

    def torch_deadline(self) -> float | None:
        """When a timed torch goes out (None when no timed torch is on)."""
        until = self._torch_until
        return None if until is None or math.isinf(until) else until

    def set_manual(self, frame: Frame, printer_layer: Layer) -> None:
        self._manual = list(frame)
        self._manual_under = printer_layer

    def clear_manual(self) -> None:
        self._manual = None
        self._manual_under = None

    @property
    def manual(self) -> Frame | None:
        return None if self._manual is None else list(self._manual)

    def in_active_hours(self, local: datetime.time) -> bool:
        return self.hours is None or within_hours(self.hours[0], self.hours[1], local)

    # -- resolution ---------------------------------------------------------------------

    def active_layers(self, view: PrinterView, now: float,
                      local: datetime.time) -> set[Layer]:
        """Every condition that holds now; `resolve` picks the one shown."""
        if self._manual is not None and resolve(view.layers) != self._manual_under:
            self.clear_manual()
        layers = set(view.layers & PRINTER_LAYERS)
        if not self.lights_on:
            layers.add(Layer.LIGHTS_OFF)
        if self.torch_active(now):
            layers.add(Layer.TORCH)
        if not self.in_active_hours(local):
            layers.add(Layer.INACTIVE)
        if self._manual is not None:
            layers.add(Layer.MANUAL)
        return layers

    def scene(self, view: PrinterView, now: float, local: datetime.time) -> Scene:
        layer = resolve(self.active_layers(view, now, local))
        if layer is Layer.MANUAL and self._manual is not None:
            return Scene(layer, Look("solid"), manual=tuple(self._manual))
        progress = 0.0
        if layer is Layer.HEATING:
            progress = view.heating_progress
        elif layer in (Layer.PRINTING, Layer.PAUSED, Layer.COMPLETE, Layer.CANCELLED):
            progress = view.print_progress
        return Scene(layer, self.looks[layer], progress)
