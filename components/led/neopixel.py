"""The strip as Klipper's `neopixel NAME` object and its `SET_LED` command, so Mainsail's and
Fluidd's LED controls work against it.

color_data is the list of [r, g, b, w] floats 0..1 per pixel (before brightness).
SET_LED LED=<name> [RED=] [GREEN=] [BLUE=] [WHITE=] [INDEX=] [TRANSMIT=] [SYNC=]: values
0..1 (missing ones are 0), INDEX 1-based (none = every pixel), TRANSMIT=0 stores the colour
without showing it until a later SET_LED with TRANSMIT=1.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from components.led.colors import Frame, Pixel, from_unit, to_unit


class SetLedError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class SetLed:
    pixel: Pixel
    index: int | None  # 1-based
    transmit: bool


def object_name(name: str) -> str:
    return f"neopixel {name}"


def object_fields(frame: Frame) -> dict[str, object]:
    return {"color_data": [to_unit(p) for p in frame]}


def config_strings(count: int, color_order: str) -> dict[str, str]:
    """The strip's entry in configfile.config (raw strings, as in printer.cfg)."""
    return {"chain_count": str(count), "color_order": color_order}


def config_settings(count: int, color_order: str) -> dict[str, object]:
    """The strip's entry in configfile.settings, as Klipper reports a [neopixel] section."""
    return {"chain_count": count, "color_order": [color_order], "initial_red": 0.0,
            "initial_green": 0.0, "initial_blue": 0.0, "initial_white": 0.0}


def _float(params: Mapping[str, str], key: str) -> float:
    text = params.get(key)
    if text is None:
        return 0.0
    try:
        value = float(text)
    except ValueError:
        raise SetLedError(f"Unable to parse '{text}' as a float for {key}") from None
    if not 0.0 <= value <= 1.0:
        raise SetLedError(f"{key} must be between 0.0 and 1.0, got {text}")
    return value


def _int(params: Mapping[str, str], key: str, default: int | None) -> int | None:
    text = params.get(key)
    if text is None:
        return default
    try:
        return int(text)
    except ValueError:
        raise SetLedError(f"Unable to parse '{text}' as an integer for {key}") from None


def parse_set_led(params: Mapping[str, str], name: str, count: int) -> SetLed:
    """Check and convert SET_LED's parameters (keys upper-cased) for the strip `name`."""
    led = params.get("LED")
    if led is None:
        raise SetLedError("SET_LED needs LED=<name>")
    if led != name:
        raise SetLedError(f"The value '{led}' is not valid for LED (known: {name})")
    pixel = from_unit(_float(params, "RED"), _float(params, "GREEN"), _float(params, "BLUE"),
                      _float(params, "WHITE"))
    index = _int(params, "INDEX", None)
    if index is not None and not 1 <= index <= count:
        raise SetLedError(f"INDEX must be between 1 and {count}, got {index}")
    transmit = _int(params, "TRANSMIT", 1)
    return SetLed(pixel, index, bool(transmit))


def apply_set_led(frame: Frame, command: SetLed) -> Frame:
    if command.index is None:
        return [command.pixel] * len(frame)
    out = list(frame)
    out[command.index - 1] = command.pixel
    return out
