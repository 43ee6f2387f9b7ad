"""`type: gpio`: a relay or LED on a GPIO line of this machine, through libgpiod v2 (the
`gpiod` package, extra `gpio`).

`pin: [!][gpiochipN/]gpioM` as Moonraker reads it: the chip defaults to gpiochip0, `!`
inverts (the line is requested active-low, so "on" still means "on"). Skysail requests
the line as an output for as long as it runs and owns it: the state is what it set.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from components.power.config import GpioSection
from components.power.device import DeviceError, PowerDevice

if TYPE_CHECKING:
    from gpiod import LineRequest

_PIN = re.compile(r"^(?P<invert>!)?(?:(?P<chip>gpiochip\d+)/)?gpio(?P<offset>\d+)$")
CONSUMER = "skysail-power"


@dataclass(frozen=True, slots=True)
class PinSpec:
    chip: str  # "gpiochip0"
    offset: int
    inverted: bool

    @property
    def chip_path(self) -> Path:
        return Path("/dev") / self.chip


def parse_pin(text: str) -> PinSpec:
    match = _PIN.match(text.strip())
    if match is None:
        raise ValueError(f"option 'pin': expected [!][gpiochipN/]gpioM, got {text!r}")
    return PinSpec(match["chip"] or "gpiochip0", int(match["offset"]),
                   match["invert"] is not None)


class GpioLine:
    """One output line held through libgpiod."""

    def __init__(self, pin: PinSpec) -> None:
        self.pin = pin
        self._request: LineRequest | None = None

    def open(self, on: bool) -> None:
        try:
            import gpiod
            from gpiod.line import Direction, Value
        except ImportError:
            raise DeviceError("the gpiod package is not installed "
                              "(pip install 'skysail[gpio]')") from None
        path = self.pin.chip_path
        if not path.exists():
            raise DeviceError(f"no GPIO chip {path} on this machine")
        settings = gpiod.LineSettings(
            direction=Direction.OUTPUT, active_low=self.pin.inverted,
            output_value=Value.ACTIVE if on else Value.INACTIVE)
        try:
            self._request = gpiod.request_lines(
                str(path), consumer=CONSUMER, config={self.pin.offset: settings})
        except (OSError, ValueError) as exc:
            raise DeviceError(f"cannot request line {self.pin.offset} of {path}: "
                              f"{exc}") from None

    @property
    def is_open(self) -> bool:
        return self._request is not None

    def set(self, on: bool) -> None:
        from gpiod.line import Value

        if self._request is None:
            raise DeviceError("the GPIO line is not open")
        self._request.set_value(self.pin.offset, Value.ACTIVE if on else Value.INACTIVE)

    def get(self) -> bool:
        from gpiod.line import Value

        if self._request is None:
            raise DeviceError("the GPIO line is not open")
        return bool(self._request.get_value(self.pin.offset) == Value.ACTIVE)

    def close(self) -> None:
        if self._request is not None:
            self._request.release()
            self._request = None


class GpioDevice(PowerDevice):
    config: GpioSection

    def __init__(self, name: str, config: GpioSection) -> None:
        super().__init__(name, config)
        self.line = GpioLine(parse_pin(config.pin))

    async def start(self) -> None:
        with contextlib.suppress(DeviceError):
            self._open()

    def _open(self) -> None:
        """Request the line (again, after a failure); it starts in the initial state, off
        when none is configured, as Moonraker does."""
        if not self.line.is_open:
            self.line.open(self.config.initial_state == "on")

    async def read(self) -> str:
        self._open()
        return "on" if await asyncio.to_thread(self.line.get) else "off"

    async def write(self, on: bool) -> str:
        self._open()
        await asyncio.to_thread(self.line.set, on)
        return await self.read()

    async def close(self) -> None:
        self.line.close()
