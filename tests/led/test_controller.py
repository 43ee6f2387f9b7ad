"""The controller with explicit time: torch (toggle and timed), active hours, overrides."""

from __future__ import annotations

import datetime

import pytest

from components.led.config import LedSection
from components.led.controller import LedController, within_hours
from components.led.precedence import Layer
from components.led.printer_view import PrinterView

NOON = datetime.time(12, 0)
IDLE = PrinterView(frozenset({Layer.IDLE}))
PRINTING = PrinterView(frozenset({Layer.PRINTING, Layer.IDLE}), print_progress=0.5)
HEATING = PrinterView(frozenset({Layer.HEATING, Layer.PRINTING, Layer.IDLE}),
                      print_progress=0.1, heating_progress=0.75, heating="extruder")
WHITE4 = (255, 255, 255, 255)


def controller(**options: object) -> LedController:
    return LedController(LedSection(led_count=4, **options))  # type: ignore[arg-type]


def test_timed_torch_lasts_torch_time_on_the_injected_clock() -> None:
    led = controller(torch_mode="timed", torch_time=10.0)
    led.torch_on(now=100.0)
    assert led.torch_active(100.0)
    assert led.scene(IDLE, 105.0, NOON).layer is Layer.TORCH
    assert led.scene(IDLE, 105.0, NOON).frame(4, 105.0) == [WHITE4] * 4
    assert led.torch_deadline() == 110.0
    assert led.scene(IDLE, 109.999, NOON).layer is Layer.TORCH
    assert led.scene(IDLE, 110.0, NOON).layer is Layer.IDLE
    assert not led.torch_active(110.0)
    assert led.torch_deadline() is None


def test_timed_torch_restarts_its_timer_when_switched_on_again() -> None:
    led = controller(torch_mode="timed", torch_time=10.0)
    led.torch_on(now=0.0)
    led.torch_on(now=8.0)
    assert led.torch_active(17.0)
    assert not led.torch_active(18.0)


def test_toggle_torch_stays_on_until_switched_off() -> None:
    led = controller(torch_mode="toggle")
    led.torch_on(now=0.0)
    assert led.torch_deadline() is None
    assert led.torch_active(1e9)
    led.torch_off()
    assert not led.torch_active(1e9)


def test_torch_shows_over_a_print_and_lights_off_over_the_torch() -> None:
    led = controller()
    led.torch_on(now=0.0)
    assert led.scene(PRINTING, 1.0, NOON).layer is Layer.TORCH
    led.set_lights(False)
    scene = led.scene(PRINTING, 1.0, NOON)
    assert scene.layer is Layer.LIGHTS_OFF
    assert scene.frame(4, 1.0) == [(0, 0, 0, 0)] * 4
    led.set_lights(True)
    assert led.scene(PRINTING, 1.0, NOON).layer is Layer.TORCH


@pytest.mark.parametrize(
    ("start", "end", "now", "inside"),
    [
        ("08:00", "22:00", "12:00", True),
        ("08:00", "22:00", "08:00", True),
        ("08:00", "22:00", "22:00", False),
        ("08:00", "22:00", "07:59", False),
        ("22:00", "06:00", "23:30", True),
        ("22:00", "06:00", "05:59", True),
        ("22:00", "06:00", "06:00", False),
        ("22:00", "06:00", "12:00", False),
        ("00:00", "00:00", "03:00", True),
    ],
)
def test_active_hours(start: str, end: str, now: str, inside: bool) -> None:
    led = controller(active_start=start, active_end=end)
    local = datetime.time.fromisoformat(now)
    assert led.in_active_hours(local) is inside
    assert within_hours(datetime.time.fromisoformat(start), datetime.time.fromisoformat(end),
                        local) is inside
    scene = led.scene(PRINTING, 0.0, local)
    assert scene.layer is (Layer.PRINTING if inside else Layer.INACTIVE)
    if not inside:
        assert scene.frame(4, 0.0) == [(0, 0, 0, 0)] * 4


def test_no_active_hours_means_always_active_and_torch_beats_the_night() -> None:
    assert controller().in_active_hours(datetime.time(3, 0))
    led = controller(active_start="08:00", active_end="20:00")
    led.torch_on(now=0.0)
    assert led.scene(IDLE, 1.0, datetime.time(23, 0)).layer is Layer.TORCH


def test_manual_colours_last_until_the_printer_state_changes() -> None:
    led = controller()
    red = [(255, 0, 0, 0)] * 4
    led.set_manual(red, Layer.IDLE)
    scene = led.scene(IDLE, 0.0, NOON)
    assert scene.layer is Layer.MANUAL
    assert scene.frame(4, 0.0) == red
    assert not scene.animated
    assert led.scene(IDLE, 50.0, NOON).layer is Layer.MANUAL
    assert led.scene(PRINTING, 51.0, NOON).layer is Layer.PRINTING
    assert led.manual is None
    assert led.scene(IDLE, 52.0, NOON).layer is Layer.IDLE


def test_switching_the_lights_drops_manual_colours() -> None:
    led = controller()
    led.set_manual([(1, 2, 3, 4)] * 4, Layer.IDLE)
    led.set_lights(True)
    assert led.scene(IDLE, 0.0, NOON).layer is Layer.IDLE


def test_scene_progress_follows_the_layer_shown() -> None:
    led = controller()
    heating = led.scene(HEATING, 0.0, NOON)
    assert heating.layer is Layer.HEATING
    assert heating.progress == 0.75
    assert heating.frame(4, 0.0) == [(255, 0, 0, 0)] * 3 + [(0, 0, 255, 0)]
    printing = led.scene(PRINTING, 0.0, NOON)
    assert printing.progress == 0.5
    assert printing.frame(4, 0.0) == [(0, 255, 0, 0)] * 2 + [(0, 0, 0, 0)] * 2
    assert led.scene(IDLE, 0.0, NOON).progress == 0.0


def test_lights_start_as_configured() -> None:
    assert controller().lights_on
    led = controller(lights_on_at_start=False)
    assert led.scene(IDLE, 0.0, NOON).layer is Layer.LIGHTS_OFF
