"""Effects are pure functions of (look, time, progress): pixel values asserted exactly."""

from __future__ import annotations

import pytest

from components.led.colors import (
    BLACK,
    ColorError,
    apply_brightness,
    blend,
    parse_color,
)
from components.led.config import LedSection
from components.led.effects import Look, pulse_level, render
from components.led.precedence import Layer

RED = (255, 0, 0, 0)
BLUE = (0, 0, 255, 0)


def test_parse_colours() -> None:
    assert parse_color("#ff8000") == (255, 128, 0, 0)
    assert parse_color("00ff00") == (0, 255, 0, 0)
    assert parse_color("#ffffff80") == (255, 255, 255, 128)
    for bad in ("#fff", "red", "#gg0000", "#ff00ff0", ""):
        with pytest.raises(ColorError):
            parse_color(bad)


def test_solid_and_off() -> None:
    assert render(Look("solid", RED), 3, 12.3) == [RED, RED, RED]
    assert render(Look("off", RED), 2, 0.0) == [BLACK, BLACK]
    assert render(Look("solid", RED), 0, 0.0) == []


def test_pulse_breathes_over_its_period() -> None:
    look = Look("pulse", (200, 100, 0, 50), period=2.0)
    assert render(look, 2, 0.0) == [BLACK, BLACK]
    assert render(look, 2, 1.0) == [(200, 100, 0, 50)] * 2  # half way: full
    assert render(look, 1, 0.5) == [(100, 50, 0, 25)]  # a quarter: half
    assert render(look, 1, 2.0) == [BLACK]  # the next period starts dark
    assert render(look, 1, 3.0) == render(look, 1, 1.0)
    assert pulse_level(0.5, 2.0) == pytest.approx(0.5)


def test_blink_is_on_for_the_first_half_of_each_period() -> None:
    look = Look("blink", RED, period=1.0)
    assert render(look, 2, 0.0) == [RED, RED]
    assert render(look, 2, 0.49) == [RED, RED]
    assert render(look, 2, 0.5) == [BLACK, BLACK]
    assert render(look, 2, 0.99) == [BLACK, BLACK]
    assert render(look, 2, 1.2) == [RED, RED]


def test_rainbow_spreads_the_wheel_and_turns() -> None:
    look = Look("rainbow", period=3.0)
    frame = render(look, 3, 0.0)
    assert frame == [(255, 0, 0, 0), (0, 255, 0, 0), (0, 0, 255, 0)]
    # one third of a period later every pixel has moved on one third of the wheel
    assert render(look, 3, 1.0) == [(0, 255, 0, 0), (0, 0, 255, 0), (255, 0, 0, 0)]
    assert render(look, 3, 3.0) == frame


def test_progress_bar_fills_from_the_first_pixel() -> None:
    look = Look("progress", RED, base=BLUE)
    assert render(look, 4, 0.0, progress=0.0) == [BLUE] * 4
    assert render(look, 4, 0.0, progress=0.5) == [RED, RED, BLUE, BLUE]
    # 0.625 of 4 pixels: two full, the third half way between blue and red
    assert render(look, 4, 0.0, progress=0.625) == [RED, RED, (128, 0, 128, 0), BLUE]
    assert render(look, 4, 0.0, progress=1.0) == [RED] * 4
    assert render(look, 4, 0.0, progress=7.0) == [RED] * 4
    assert render(look, 4, 0.0, progress=-1.0) == [BLUE] * 4
    # time plays no part in a progress bar
    assert render(look, 4, 99.0, progress=0.5) == render(look, 4, 0.0, progress=0.5)


def test_blend_and_brightness() -> None:
    assert blend(BLACK, (200, 100, 50, 10), 0.5) == (100, 50, 25, 5)
    assert blend(BLACK, RED, 2.0) == RED
    assert apply_brightness([(255, 128, 0, 255)], 0.5) == [(128, 64, 0, 128)]
    assert apply_brightness([(255, 255, 255, 255)], 0.0) == [BLACK]


@pytest.mark.parametrize(
    ("layer", "t", "progress", "expected"),
    [
        (Layer.DISCONNECTED, 1.0, 0.0, [(0, 0, 255, 0)] * 4),  # pulse at its peak
        (Layer.DISCONNECTED, 0.0, 0.0, [BLACK] * 4),
        (Layer.IDLE, 5.0, 0.0, [(0, 255, 255, 0)] * 4),
        (Layer.HEATING, 0.0, 0.5, [RED, RED, BLUE, BLUE]),
        (Layer.PRINTING, 0.0, 0.25, [(0, 255, 0, 0), BLACK, BLACK, BLACK]),
        (Layer.PAUSED, 0.0, 0.3, [(255, 255, 0, 0)] * 4),
        (Layer.PAUSED, 1.5, 0.3, [BLACK] * 4),
        (Layer.COMPLETE, 0.0, 1.0, [(255, 0, 0, 0), (128, 255, 0, 0), (0, 255, 255, 0),
                                    (128, 0, 255, 0)]),
        (Layer.CANCELLED, 0.0, 0.4, [(255, 128, 0, 0)] * 4),
        (Layer.ERROR, 0.2, 0.0, [RED] * 4),
        (Layer.ERROR, 1.2, 0.0, [BLACK] * 4),
        (Layer.TORCH, 0.0, 0.0, [(255, 255, 255, 255)] * 4),
        (Layer.LIGHTS_OFF, 0.0, 0.0, [BLACK] * 4),
        (Layer.INACTIVE, 0.0, 0.0, [BLACK] * 4),
    ],
)
def test_default_look_of_every_state(layer: Layer, t: float, progress: float,
                                     expected: list[tuple[int, int, int, int]]) -> None:
    looks = LedSection().looks()
    assert render(looks[layer], 4, t, progress) == expected
