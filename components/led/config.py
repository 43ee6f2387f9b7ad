"""The `[led]` section, typed. Every option is documented in docs/led.md."""

from __future__ import annotations

import datetime

import msgspec

from components.led.colors import ColorError, parse_color
from components.led.effects import EFFECTS, Look
from components.led.precedence import Layer

BACKENDS = ("virtual", "marlin", "rpi_ws281x")
TORCH_MODES = ("toggle", "timed")
COLOR_ORDERS = (
    "RGB", "RBG", "GRB", "GBR", "BRG", "BGR",
    "RGBW", "RBGW", "GRBW", "GBRW", "BRGW", "BGRW",
)
# states whose look the user configures: (effect, colour) options named <state>_effect/_color
STATE_LAYERS = (
    Layer.DISCONNECTED, Layer.IDLE, Layer.HEATING, Layer.PRINTING, Layer.PAUSED,
    Layer.COMPLETE, Layer.CANCELLED, Layer.ERROR,
)


class LedSection(msgspec.Struct, kw_only=True):
    backend: str = "virtual"
    name: str = "status"
    led_count: int = 10
    color_order: str = "GRB"
    brightness: float = 0.5
    fps: float = 15.0
    static_interval: float = 1.0
    effect_period: float = 2.0
    lights_on_at_start: bool = True
    # torch
    torch_mode: str = "toggle"
    torch_time: float = 15.0
    torch_color: str = "#ffffffff"
    # active hours, local time "HH:MM"; both empty = always active
    active_start: str | None = None
    active_end: str | None = None
    # how long the end of a print stays on the strip (seconds; 0 = until the next print)
    complete_time: float = 60.0
    cancelled_time: float = 30.0
    error_time: float = 0.0
    heating_tolerance: float = 2.0
    # looks per state
    disconnected_effect: str = "pulse"
    disconnected_color: str = "#0000ff"
    idle_effect: str = "solid"
    idle_color: str = "#00ffff"
    heating_effect: str = "progress"
    heating_color: str = "#ff0000"
    heating_base_color: str = "#0000ff"
    printing_effect: str = "progress"
    printing_color: str = "#00ff00"
    printing_base_color: str = "#000000"
    paused_effect: str = "blink"
    paused_color: str = "#ffff00"
    complete_effect: str = "rainbow"
    complete_color: str = "#00ff00"
    cancelled_effect: str = "solid"
    cancelled_color: str = "#ff8000"
    error_effect: str = "blink"
    error_color: str = "#ff0000"
    # rpi_ws281x backend
    gpio_pin: int = 18
    frequency: int = 800000
    dma: int = 10
    invert: bool = False
    pwm_channel: int = 0
    # marlin backend
    marlin_min_interval: float = 0.5
    marlin_index: bool = False

    def __post_init__(self) -> None:
        _choice("backend", self.backend, BACKENDS)
        _choice("torch_mode", self.torch_mode, TORCH_MODES)
        self.color_order = self.color_order.upper()
        _choice("color_order", self.color_order, COLOR_ORDERS)
        if not self.name or any(c.isspace() for c in self.name):
            raise ValueError(f"option 'name': expected one word, got {self.name!r}")
        if not 1 <= self.led_count <= 4096:
            raise ValueError(f"option 'led_count': expected 1..4096, got {self.led_count}")
        if not 0.0 <= self.brightness <= 1.0:
            raise ValueError(f"option 'brightness': expected 0.0..1.0, got {self.brightness}")
        for option in ("fps", "static_interval", "effect_period", "torch_time"):
            if getattr(self, option) <= 0:
                raise ValueError(f"option '{option}': expected a positive number")
        for option in ("complete_time", "cancelled_time", "error_time", "heating_tolerance",
                       "marlin_min_interval"):
            if getattr(self, option) < 0:
                raise ValueError(f"option '{option}': expected a number >= 0")
        if (self.active_start is None) != (self.active_end is None):
            raise ValueError("options 'active_start' and 'active_end': set both or neither")
        for option in ("active_start", "active_end"):
            value = getattr(self, option)
            if value is not None:
                parse_clock_time(option, value)
        _color("torch_color", self.torch_color)
        for layer in STATE_LAYERS:
            _choice(f"{layer.value}_effect", getattr(self, f"{layer.value}_effect"), EFFECTS)
            _color(f"{layer.value}_color", getattr(self, f"{layer.value}_color"))
        _color("heating_base_color", self.heating_base_color)
        _color("printing_base_color", self.printing_base_color)

    @property
    def has_white(self) -> bool:
        return self.color_order.endswith("W")

    def active_hours(self) -> tuple[datetime.time, datetime.time] | None:
        if self.active_start is None or self.active_end is None:
            return None
        return (parse_clock_time("active_start", self.active_start),
                parse_clock_time("active_end", self.active_end))

    def looks(self) -> dict[Layer, Look]:
        """The look of every layer that is not a plain override."""
        looks: dict[Layer, Look] = {}
        for layer in STATE_LAYERS:
            base = getattr(self, f"{layer.value}_base_color", "#000000")
            looks[layer] = Look(
                effect=getattr(self, f"{layer.value}_effect"),
                color=parse_color(getattr(self, f"{layer.value}_color")),
                base=parse_color(base),
                period=self.effect_period,
            )
        looks[Layer.TORCH] = Look("solid", parse_color(self.torch_color))
        looks[Layer.LIGHTS_OFF] = Look("off")
        looks[Layer.INACTIVE] = Look("off")
        return looks


def parse_clock_time(option: str, text: str) -> datetime.time:
    try:
        hours, minutes = (int(part) for part in text.strip().split(":"))
        return datetime.time(hours, minutes)
    except ValueError:
        raise ValueError(f"option '{option}': expected a time HH:MM, got {text!r}") from None


def _choice(option: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"option '{option}': expected one of {', '.join(choices)}, got {value!r}")


def _color(option: str, value: str) -> None:
    try:
        parse_color(value)
    except ColorError as exc:
        raise ValueError(f"option '{option}': {exc}") from None
