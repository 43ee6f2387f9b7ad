"""Pixels and frames: plain tuples, so frames compare by value and encode as JSON lists.

A pixel is (red, green, blue, white), each 0..255, before brightness is applied.
"""

from __future__ import annotations

import colorsys
import re

Pixel = tuple[int, int, int, int]
Frame = list[Pixel]

BLACK: Pixel = (0, 0, 0, 0)
_HEX = re.compile(r"#?([0-9a-fA-F]{6})([0-9a-fA-F]{2})?")


class ColorError(ValueError):
    pass


def parse_color(text: str) -> Pixel:
    """`#rrggbb`, or `#rrggbbww` with a white channel (RGBW strips)."""
    match = _HEX.fullmatch(text.strip())
    if match is None:
        raise ColorError(f"expected a colour like #ff8800 (or #ff880080 with white), got {text!r}")
    rgb, white = match.group(1), match.group(2) or "00"
    return (int(rgb[0:2], 16), int(rgb[2:4], 16), int(rgb[4:6], 16), int(white, 16))


def clamp8(value: float) -> int:
    return max(0, min(255, round(value)))


def scale(pixel: Pixel, factor: float) -> Pixel:
    r, g, b, w = pixel
    return (clamp8(r * factor), clamp8(g * factor), clamp8(b * factor), clamp8(w * factor))


def blend(low: Pixel, high: Pixel, fraction: float) -> Pixel:
    """`low` at 0, `high` at 1, linear in between."""
    f = max(0.0, min(1.0, fraction))
    r1, g1, b1, w1 = low
    r2, g2, b2, w2 = high
    return (
        clamp8(r1 + (r2 - r1) * f),
        clamp8(g1 + (g2 - g1) * f),
        clamp8(b1 + (b2 - b1) * f),
        clamp8(w1 + (w2 - w1) * f),
    )


def hue(position: float) -> Pixel:
    """Fully saturated colour at `position` around the colour wheel (0 = red, 1/3 = green)."""
    r, g, b = colorsys.hsv_to_rgb(position % 1.0, 1.0, 1.0)
    return (clamp8(r * 255), clamp8(g * 255), clamp8(b * 255), 0)


def to_unit(pixel: Pixel) -> list[float]:
    """Klipper's color_data entry: [r, g, b, w] as floats 0..1."""
    return [round(c / 255, 4) for c in pixel]


def from_unit(red: float, green: float, blue: float, white: float) -> Pixel:
    return (clamp8(red * 255), clamp8(green * 255), clamp8(blue * 255), clamp8(white * 255))


def apply_brightness(frame: Frame, brightness: float) -> Frame:
    return [scale(p, brightness) for p in frame]
