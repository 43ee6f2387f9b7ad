"""Where frames go: one small interface, three backends chosen by `[led] backend`.

A backend receives logical frames (colours before brightness) through `show`, which never
blocks; each applies the configured brightness its own way (scaling, the firmware's `P`,
the library's brightness).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from components.led.colors import Frame
from components.led.config import LedSection
from components.printer.api import PrinterApi


class LedBackendError(Exception):
    """The backend cannot drive the strip; the message says why and what to do."""


class Backend(Protocol):
    name: str

    async def start(self) -> None:
        """Raise LedBackendError with a clear message when the strip cannot be driven."""

    def show(self, frame: Frame) -> None:
        """Display `frame` (returns at once; slow outputs keep only the newest frame)."""

    async def stop(self) -> None: ...


PrinterGetter = Callable[[], PrinterApi | None]


def make_backend(config: LedSection, printer: PrinterGetter) -> Backend:
    if config.backend == "marlin":
        from components.led.backends.marlin import MarlinBackend

        return MarlinBackend(printer, config.brightness, has_white=config.has_white,
                             min_interval=config.marlin_min_interval,
                             per_pixel=config.marlin_index)
    if config.backend == "rpi_ws281x":
        from components.led.backends.ws281x import Ws281xBackend, Ws281xSettings

        return Ws281xBackend(Ws281xSettings.from_config(config))
    from components.led.backends.virtual import VirtualBackend

    return VirtualBackend(config.brightness)
