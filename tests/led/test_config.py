"""The [led] section: defaults, conversions from INI text, and clear errors."""

from __future__ import annotations

import datetime

import pytest

from components.led.config import LedSection
from gateway.config import Config, ConfigError


def section(text: str) -> LedSection:
    return Config.from_string("[led]\n" + text).section("led", LedSection)


def test_defaults() -> None:
    cfg = section("")
    assert (cfg.backend, cfg.name, cfg.led_count, cfg.color_order) == ("virtual", "status", 10,
                                                                       "GRB")
    assert cfg.active_hours() is None
    assert not cfg.has_white


def test_values_from_ini_text() -> None:
    cfg = section("backend: marlin\nled_count: 30\ncolor_order: grbw\nbrightness: 0.25\n"
                  "torch_mode: timed\ntorch_time: 5\nactive_start: 07:30\nactive_end: 23:00\n"
                  "idle_effect: rainbow\nidle_color: #123456\nmarlin_index: true\n")
    assert cfg.backend == "marlin"
    assert cfg.led_count == 30
    assert cfg.color_order == "GRBW"
    assert cfg.has_white
    assert cfg.brightness == 0.25
    assert cfg.torch_time == 5.0
    assert cfg.marlin_index is True
    assert cfg.active_hours() == (datetime.time(7, 30), datetime.time(23, 0))
    assert cfg.looks()[next(k for k in cfg.looks() if k.value == "idle")].effect == "rainbow"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("backend: neon", "option 'backend': expected one of virtual, marlin, rpi_ws281x"),
        ("led_count: 0", "option 'led_count'"),
        ("led_count: many", "option 'led_count': expected int"),
        ("brightness: 2", "option 'brightness'"),
        ("color_order: XYZ", "option 'color_order'"),
        ("torch_mode: sometimes", "option 'torch_mode'"),
        ("idle_effect: sparkle", "option 'idle_effect'"),
        ("error_color: crimson", "option 'error_color'"),
        ("active_start: 25:00\nactive_end: 06:00", "option 'active_start': expected a time"),
        ("active_start: 08:00", "set both or neither"),
        ("fps: 0", "option 'fps'"),
        ("name: two words", "option 'name'"),
    ],
)
def test_bad_values_name_the_option(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        section(text + "\n")
    assert "[led]" in str(info.value)
    assert message in str(info.value)
