"""Effects: pure functions of (what to show, time) -> frame. No clock, no I/O.

`render(look, count, t, progress)` gives the frame of `count` pixels at time `t` (seconds,
any origin); `progress` (0..1) drives the progress bar. Animated effects repeat every
`look.period` seconds.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from components.led.colors import BLACK, Frame, Pixel, blend, hue, scale

EFFECTS = ("solid", "pulse", "blink", "rainbow", "progress", "off")
ANIMATED = frozenset({"pulse", "blink", "rainbow"})


@dataclass(frozen=True, slots=True)
class Look:
    effect: str
    color: Pixel = BLACK
    # the unfilled part of a progress bar
    base: Pixel = BLACK
    period: float = 2.0


def solid(look: Look, count: int, t: float, progress: float) -> Frame:
    return [look.color] * count


def off(look: Look, count: int, t: float, progress: float) -> Frame:
    return [BLACK] * count


def pulse_level(t: float, period: float) -> float:
    """0 at the start of each period, 1 half way, a smooth (cosine) breath in between."""
    return (1.0 - math.cos(2.0 * math.pi * (t % period) / period)) / 2.0


def pulse(look: Look, count: int, t: float, progress: float) -> Frame:
    return [scale(look.color, pulse_level(t, look.period))] * count


def blink(look: Look, count: int, t: float, progress: float) -> Frame:
    lit = (t % look.period) < look.period / 2.0
    return [look.color if lit else BLACK] * count


def rainbow(look: Look, count: int, t: float, progress: float) -> Frame:
    """The colour wheel spread once over the strip, turning once per period."""
    shift = (t % look.period) / look.period
    return [hue(i / count + shift) for i in range(count)]


def progress_bar(look: Look, count: int, t: float, progress: float) -> Frame:
    """Pixels fill with `color` from the first one; the pixel at the edge is part filled."""
    filled = max(0.0, min(1.0, progress)) * count
    whole = int(filled)
    frame: Frame = []
    for i in range(count):
        if i < whole:
            frame.append(look.color)
        elif i == whole:
            frame.append(blend(look.base, look.color, filled - whole))
        else:
            frame.append(look.base)
    return frame


_RENDERERS: dict[str, Callable[[Look, int, float, float], Frame]] = {
    "solid": solid,
    "pulse": pulse,
    "blink": blink,
    "rainbow": rainbow,
    "progress": progress_bar,
    "off": off,
}


def render(look: Look, count: int, t: float, progress: float = 0.0) -> Frame:
    if count <= 0:
        return []
    return _RENDERERS[look.effect](look, count, t, progress)


def is_animated(look: Look) -> bool:
    return look.effect in ANIMATED
