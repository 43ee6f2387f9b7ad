"""SET_LED's parameters and the neopixel object's color_data."""

from __future__ import annotations

import pytest

from components.led.neopixel import (
    SetLed,
    SetLedError,
    apply_set_led,
    object_fields,
    object_name,
    parse_set_led,
)


def test_parse_full_command() -> None:
    cmd = parse_set_led({"LED": "status", "RED": "1", "GREEN": "0.5", "BLUE": "0",
                         "WHITE": "0.2", "INDEX": "3", "TRANSMIT": "0"}, "status", 4)
    assert cmd == SetLed((255, 128, 0, 51), 3, False)


def test_missing_colours_are_zero_and_transmit_defaults_on() -> None:
    assert parse_set_led({"LED": "status", "BLUE": "1"}, "status", 4) == SetLed(
        (0, 0, 255, 0), None, True)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"RED": "1"}, "SET_LED needs LED=<name>"),
        ({"LED": "other"}, "The value 'other' is not valid for LED"),
        ({"LED": "status", "RED": "1.5"}, "RED must be between 0.0 and 1.0"),
        ({"LED": "status", "GREEN": "lots"}, "Unable to parse 'lots' as a float for GREEN"),
        ({"LED": "status", "INDEX": "0"}, "INDEX must be between 1 and 4"),
        ({"LED": "status", "INDEX": "5"}, "INDEX must be between 1 and 4"),
        ({"LED": "status", "INDEX": "x"}, "as an integer for INDEX"),
    ],
)
def test_errors(params: dict[str, str], message: str) -> None:
    with pytest.raises(SetLedError, match=message):
        parse_set_led(params, "status", 4)


def test_apply_to_one_pixel_or_all() -> None:
    frame = [(0, 0, 0, 0)] * 3
    assert apply_set_led(frame, SetLed((1, 2, 3, 4), 2, True)) == [
        (0, 0, 0, 0), (1, 2, 3, 4), (0, 0, 0, 0)]
    assert apply_set_led(frame, SetLed((9, 9, 9, 9), None, True)) == [(9, 9, 9, 9)] * 3


def test_object_is_klipper_shaped() -> None:
    assert object_name("status") == "neopixel status"
    assert object_fields([(255, 0, 51, 0)]) == {"color_data": [[1.0, 0.0, 0.2, 0.0]]}
