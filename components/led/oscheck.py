"""The OS configuration test (`test_os_config`): can this machine drive a WS281x strip?

Each check is reported as it runs, like the plugin does on its socket:
{"test": <name>, "status": "in_progress" | "passed" | "failed"} and finally
{"test": "complete", "status": "complete"}.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable

from components.led.ws281x_child import MEM_DEVICE, SPI_DEVICE, SPI_PIN


def os_checks(pin: int) -> dict[str, Callable[[], bool]]:
    def library() -> bool:
        return importlib.util.find_spec("rpi_ws281x") is not None

    def spi_enabled() -> bool:
        return os.path.exists(SPI_DEVICE)

    def device_access() -> bool:
        device = SPI_DEVICE if pin == SPI_PIN else MEM_DEVICE
        return os.geteuid() == 0 or os.access(device, os.R_OK | os.W_OK)

    checks = {"library": library, "device_access": device_access}
    if pin == SPI_PIN:
        checks["spi_enabled"] = spi_enabled
    return checks
