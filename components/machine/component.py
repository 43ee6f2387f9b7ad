"""machine.system_info, machine.proc_stats and the once-a-second notify_proc_stat_update
(frontends drop a websocket that stays silent for 10 s); the same sample keeps the
printer's `system_stats` object (Mainsail's and Fluidd's machine page) current."""

from __future__ import annotations

import asyncio
import os
import time
from typing import TYPE_CHECKING

from components.machine.peripherals import Peripherals
from components.machine.proc_stats import ProcStatsSampler
from components.machine.services import MachineServices
from components.machine.system_info import collect_system_info
from components.printer.api import PrinterApi
from gateway.component import BaseComponent
from gateway.request import Request

if TYPE_CHECKING:
    from gateway.api import ServerApi

STAT_INTERVAL = 1.0


class Machine(BaseComponent):
    moonraker_names = ("machine", "proc_stats")

    def __init__(self, server: ServerApi) -> None:
        self.server = server
        self.sampler = ProcStatsSampler(cpu_clock=time.process_time)
        self._timer: asyncio.TimerHandle | None = None
        reg = server.register_endpoint
        reg("machine.system_info", self.system_info, http="GET /machine/system_info")
        reg("machine.proc_stats", self.proc_stats, http="GET /machine/proc_stats")
        # services, reboot/shutdown, sudo; device lists for Mainsail's dialogs
        self.services = MachineServices(server)
        self.peripherals = Peripherals(server)
        # Klipper's system_stats object lives in the printer's model, kept by us
        self.printer = server.find(PrinterApi)

    async def start(self) -> None:
        self.sampler.sample(time.time())
        if self.printer is not None:
            self.printer.add_object("system_stats", self.system_stats())
        self._timer = asyncio.get_running_loop().call_later(STAT_INTERVAL, self._tick)

    async def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.sampler.close()

    def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(STAT_INTERVAL, self._tick)
        self.sampler.sample(time.time())
        if self.printer is not None:
            self.printer.update_object("system_stats", self.system_stats())
        count = len(self.server.connections)
        if count:
            payload = self.sampler.notify_payload(count)
            self.server.send_notification("notify_proc_stat_update", [payload])
        throttled = self.sampler.poll_throttled_change()
        if throttled is not None:
            self.server.send_notification("notify_cpu_throttled", [throttled])

    def system_stats(self) -> dict[str, object]:
        """Klipper's system_stats: load, this process's CPU seconds, MemAvailable kB."""
        return {"sysload": round(os.getloadavg()[0], 2),
                "cputime": round(time.process_time(), 3),
                "memavail": self.sampler.system_memory.get("available", 0)}

    def system_info(self, request: Request) -> dict[str, object]:
        return collect_system_info(instance_id="skysail")

    def proc_stats(self, request: Request) -> dict[str, object]:
        return dict(self.sampler.proc_stats(len(self.server.connections)))


def load_component(server: ServerApi) -> Machine:
    return Machine(server)
