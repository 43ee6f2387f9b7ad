"""`type: marlin`: the printer's own power supply, switched by the firmware (PSU_CONTROL):
`M80` on, `M81` off, `M80 S` answers `PS:1`/`PS:0`. Only when the firmware reports
`Cap:SOFTWARE_POWER:1`; otherwise the device is in "error" saying so.

`M80 S` is only sent to firmware that knows it (Marlin 2.0.9 and later): on older
firmware `M80 S` would switch the supply on, so there the state is the one last set
(off until then).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from components.power.config import MarlinSection
from components.power.device import DeviceError, PowerDevice
from components.printer.api import PrinterApi
from gateway.errors import ServerError

CAPABILITY = "SOFTWARE_POWER"
_VERSION = re.compile(r"Marlin\s+(?:bugfix-)?v?(\d+)\.(\d+)(?:\.(\d+))?")
M80_S_SINCE = (2, 0, 9)


def reports_psu_state(firmware_name: str) -> bool:
    match = _VERSION.search(firmware_name)
    if match is None:
        return False
    version = tuple(int(part or 0) for part in match.groups())
    return version >= M80_S_SINCE


class MarlinDevice(PowerDevice):
    config: MarlinSection

    def __init__(self, name: str, config: MarlinSection,
                 printer: Callable[[], PrinterApi | None],
                 firmware_name: Callable[[], Any]) -> None:
        super().__init__(name, config)
        self._printer = printer
        self._firmware_name = firmware_name
        self._last_set: str = "off"

    async def _ready_printer(self) -> PrinterApi:
        printer = self._printer()
        if printer is None or printer.state != "ready":
            raise DeviceError("the printer is not connected")
        if not printer.has_capability(CAPABILITY):
            raise DeviceError(f"the firmware does not report Cap:{CAPABILITY} "
                              "(PSU_CONTROL is not enabled)")
        return printer

    async def read(self) -> str:
        printer = await self._ready_printer()
        if not reports_psu_state(str(await self._firmware_name())):
            return self._last_set
        try:
            replies = await printer.send_firmware("M80 S")
        except ServerError as exc:
            raise DeviceError(exc.message) from None
        for line in replies:
            text = line.strip()
            if text in ("PS:1", "PS:0"):
                self._last_set = "on" if text == "PS:1" else "off"
                return self._last_set
        return self._last_set

    async def write(self, on: bool) -> str:
        printer = await self._ready_printer()
        try:
            # through the console: the command shows there as any other
            await printer.run_gcode("M80" if on else "M81")
        except ServerError as exc:
            raise DeviceError(exc.message) from None
        self._last_set = "on" if on else "off"
        return await self.read()
