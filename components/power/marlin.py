"""`type: marlin`: the printer's own power supply, switched by the firmware (PSU_CONTROL):
`M80` on, `M81` off, `M80 S` answers `PS:1`/`PS:0`. Only when the firmware reports
`Cap:SOFTWARE_POWER:1`; otherwise the device is in "error" saying so.

The state comes from PrinterApi.power_supply_state (`M80 S`, asked only of firmware that
answers it: Marlin 2.0.9 and later); on older firmware it is the one last set (off until
then).
"""

from __future__ import annotations

from collections.abc import Callable

from components.power.config import MarlinSection
from components.power.device import DeviceError, PowerDevice
from components.printer.api import PrinterApi
from gateway.errors import ServerError

CAPABILITY = "SOFTWARE_POWER"


class MarlinDevice(PowerDevice):
    config: MarlinSection

    def __init__(self, name: str, config: MarlinSection,
                 printer: Callable[[], PrinterApi | None]) -> None:
        super().__init__(name, config)
        self._printer = printer
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
        try:
            on = await printer.power_supply_state()
        except ServerError as exc:
            raise DeviceError(exc.message) from None
        if on is not None:
            self._last_set = "on" if on else "off"
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
