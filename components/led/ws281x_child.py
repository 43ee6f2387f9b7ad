"""The child process that drives a WS281x strip with the rpi_ws281x library.

Runs as `python ws281x_child.py` (standard library only, nothing of the server), so the
strip's timing, root and SPI quirks never touch the server. One JSON object per line:

  parent -> child   {"op": "init", "count", "pin", "freq", "dma", "invert", "brightness",
                     "channel", "order"}          first line, once
                    {"op": "show", "seq": n, "pixels": [[r, g, b, w], ...]}
                    {"op": "quit"}                  (end of input means the same)
  child -> parent   {"ready": true}  or  {"error": "<what is wrong and what to do>"}
                    {"ok": n}  after frame n is on the strip, or {"error": ...}

On quit the strip is switched off.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from collections.abc import Callable
from typing import Protocol, TextIO

SPI_PIN = 10
SPI_DEVICE = "/dev/spidev0.0"
MEM_DEVICE = "/dev/mem"

NOT_INSTALLED = (
    "rpi_ws281x backend: the rpi_ws281x library is not installed. It runs only on a "
    "Raspberry Pi: install it into the server's environment (pip install rpi_ws281x), "
    "or choose backend: marlin or backend: virtual in [led]."
)


def diagnose(pin: int, *, euid: int, exists: Callable[[str], bool],
             writable: Callable[[str], bool]) -> list[str]:
    """Why the library may have failed to start, as hints for the user."""
    hints: list[str] = []
    if pin == SPI_PIN:
        if not exists(SPI_DEVICE):
            hints.append(f"SPI is not enabled: {SPI_DEVICE} is missing (enable SPI with "
                         "raspi-config, or dtparam=spi=on in /boot/config.txt, and reboot)")
        elif not writable(SPI_DEVICE):
            hints.append(f"no permission to use {SPI_DEVICE}: add the server's user to the "
                         "'spi' group")
    elif euid != 0 and not writable(MEM_DEVICE):
        hints.append(f"GPIO {pin} (PWM/PCM) needs {MEM_DEVICE}, which only root may open: "
                     f"run the server as root, or wire the strip to GPIO {SPI_PIN} (SPI)")
    return hints


def _writable(path: str) -> bool:
    return os.access(path, os.R_OK | os.W_OK)


def pack(pixel: list[int]) -> int:
    """The library's 32-bit colour: white, red, green, blue from the top byte down."""
    r, g, b, w = (max(0, min(255, int(c))) for c in pixel[:4])
    return (w << 24) | (r << 16) | (g << 8) | b


def strip_type(module: object, order: str) -> object:
    ws = getattr(module, "ws", None)
    family = "SK6812_STRIP_" if order.endswith("W") else "WS2811_STRIP_"
    value = getattr(ws, family + order, None) if ws is not None else None
    if value is None:
        raise ValueError(f"colour order {order} is not known to this rpi_ws281x version")
    return value


class Strip(Protocol):
    """What we use of rpi_ws281x.PixelStrip."""

    def begin(self) -> None: ...

    def setPixelColor(self, n: int, color: int) -> None: ...

    def show(self) -> None: ...


def _int(msg: dict[str, object], key: str) -> int:
    value = msg.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"init: {key} must be a whole number, got {value!r}")
    return value


class Child:
    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.strip: Strip | None = None
        self.count = 0

    def send(self, message: dict[str, object]) -> None:
        self.out.write(json.dumps(message) + "\n")
        self.out.flush()

    def init(self, msg: dict[str, object]) -> bool:
        try:
            rpi_ws281x = importlib.import_module("rpi_ws281x")
        except ImportError:
            self.send({"error": NOT_INSTALLED})
            return False
        pin = _int(msg, "pin")
        self.count = _int(msg, "count")
        try:
            strip: Strip = rpi_ws281x.PixelStrip(
                self.count, pin, _int(msg, "freq"), _int(msg, "dma"), bool(msg["invert"]),
                _int(msg, "brightness"), _int(msg, "channel"),
                strip_type(rpi_ws281x, str(msg["order"])),
            )
            strip.begin()
            self.strip = strip
        except Exception as exc:
            hints = diagnose(pin, euid=os.geteuid(), exists=os.path.exists,
                             writable=_writable)
            text = f"rpi_ws281x backend: the strip could not start ({exc})"
            self.send({"error": "; ".join([text, *hints])})
            return False
        self.send({"ready": True})
        return True

    def show(self, pixels: list[list[int]]) -> None:
        if self.strip is None:
            return
        for i, pixel in enumerate(pixels[: self.count]):
            self.strip.setPixelColor(i, pack(pixel))
        self.strip.show()

    def off(self) -> None:
        if self.strip is not None:
            self.show([[0, 0, 0, 0]] * self.count)


def main(stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> int:
    child = Child(stdout)
    first = stdin.readline()
    if not first:
        return 0
    if not child.init(json.loads(first)):
        return 2
    try:
        for line in stdin:
            msg = json.loads(line)
            if msg.get("op") == "quit":
                break
            if msg.get("op") == "show":
                try:
                    child.show(msg["pixels"])
                except Exception as exc:
                    child.send({"error": f"rpi_ws281x backend: show failed: {exc}"})
                    continue
                child.send({"ok": msg.get("seq", 0)})
    finally:
        child.off()
    return 0


def _protocol_stdout() -> TextIO:
    """The protocol keeps the real stdout; anything else printed (by the library, even from
    C) goes to stderr, which the server logs."""
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return protocol


if __name__ == "__main__":
    sys.exit(main(sys.stdin, _protocol_stdout()))
