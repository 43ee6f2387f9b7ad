"""A NeoPixel on the printer's own board, driven with Marlin's M150 through the printer
component, at a bounded rate and only when the frame changed, so it never starves a print.

M150 R<red> U<green> B<blue> [W<white>] P<brightness> [I<index>]: without I the whole
strip takes the colour; with I (Marlin's NEOPIXEL_LED, 0-based) one pixel does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from components.led.backends import PrinterGetter
from components.led.colors import Frame, Pixel, clamp8
from gateway.errors import ServerError

log = logging.getLogger(__name__)


def _m150(pixel: Pixel, brightness: int, has_white: bool, index: int | None = None) -> str:
    r, g, b, w = pixel
    words = ["M150"]
    if index is not None:
        words.append(f"I{index}")
    words += [f"R{r}", f"U{g}", f"B{b}"]
    if has_white:
        words.append(f"W{w}")
    words.append(f"P{brightness}")
    return " ".join(words)


def mean(frame: Frame) -> Pixel:
    n = len(frame)
    r, g, b, w = (clamp8(sum(p[c] for p in frame) / n) for c in range(4))
    return (r, g, b, w)


def m150_script(previous: Frame | None, frame: Frame, brightness: float, *,
                has_white: bool, per_pixel: bool) -> str | None:
    """The G-code that turns the firmware's `previous` frame into `frame` (None: nothing)."""
    if not frame or frame == previous:
        return None
    level = clamp8(brightness * 255)
    if all(p == frame[0] for p in frame):
        return _m150(frame[0], level, has_white)
    if not per_pixel:
        return _m150(mean(frame), level, has_white)
    same_size = previous is not None and len(previous) == len(frame)
    lines = [
        _m150(pixel, level, has_white, i)
        for i, pixel in enumerate(frame)
        if not same_size or previous is None or previous[i] != pixel
    ]
    return "\n".join(lines)


class MarlinBackend:
    name = "marlin"

    def __init__(self, printer: PrinterGetter, brightness: float, *, has_white: bool,
                 min_interval: float, per_pixel: bool) -> None:
        self._printer = printer
        self.brightness = brightness
        self.has_white = has_white
        self.min_interval = min_interval
        self.per_pixel = per_pixel
        self._latest: Frame | None = None
        self._sent: Frame | None = None
        self._last_send = -float("inf")
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.scripts_sent = 0

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="led-marlin")

    def show(self, frame: Frame) -> None:
        self._latest = frame
        if frame != self._sent:
            self._wake.set()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wake.wait()
            self._wake.clear()
            wait = self._last_send + self.min_interval - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            frame = self._latest
            printer = self._printer()
            if frame is None or printer is None or printer.state != "ready":
                continue  # the next show() after the printer is ready tries again
            script = m150_script(self._sent, frame, self.brightness,
                                 has_white=self.has_white, per_pixel=self.per_pixel)
            if script is None:
                continue
            self._last_send = loop.time()
            try:
                await printer.run_gcode(script)
            except ServerError as exc:
                log.warning("led: M150 refused by the printer: %s", exc.message)
                continue
            except Exception:
                log.warning("led: sending M150 failed", exc_info=True)
                continue
            self._sent = frame
            self.scripts_sent += 1

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
