"""server.temperature_store: one sample a second per sensor, 1200 kept (20 minutes).

Samples come from the printer component (PrinterApi.temperature_sensors); while the
printer is disconnected no samples are taken and the cached ones stay available.
"""

from __future__ import annotations

import asyncio
import collections
from typing import TYPE_CHECKING

from components.printer.api import PrinterApi, SensorReading
from gateway.component import BaseComponent, ComponentSpec
from gateway.registry import Params
from gateway.request import Request

if TYPE_CHECKING:
    from gateway.api import ServerApi

STORE_SIZE = 1200
SAMPLE_INTERVAL = 1.0


class _Series:
    __slots__ = ("powers", "targets", "temperatures")

    def __init__(self) -> None:
        self.temperatures: collections.deque[float] = collections.deque(maxlen=STORE_SIZE)
        self.targets: collections.deque[float] | None = None
        self.powers: collections.deque[float] | None = None

    def add(self, reading: SensorReading) -> None:
        self.temperatures.append(round(reading.temperature, 2))
        if reading.target is not None:
            if self.targets is None:
                self.targets = collections.deque(maxlen=STORE_SIZE)
            self.targets.append(reading.target)
        if reading.power is not None:
            if self.powers is None:
                self.powers = collections.deque(maxlen=STORE_SIZE)
            self.powers.append(round(reading.power, 3))

    def as_dict(self) -> dict[str, list[float]]:
        out = {"temperatures": list(self.temperatures)}
        if self.targets is not None:
            out["targets"] = list(self.targets)
        if self.powers is not None:
            out["powers"] = list(self.powers)
        return out


class StoreArgs(Params):
    include_monitors: bool = False


class TemperatureStore(BaseComponent):
    moonraker_names = ("data_store",)

    def __init__(self, server: ServerApi) -> None:
        self.server = server
        self.series: dict[str, _Series] = {}
        self._timer: asyncio.TimerHandle | None = None
        server.register_endpoint(
            "server.temperature_store", self.get_store, params=StoreArgs,
            http="GET /server/temperature_store"
        )

    async def start(self) -> None:
        self._timer = asyncio.get_running_loop().call_later(SAMPLE_INTERVAL, self._tick)

    async def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()

    def _tick(self) -> None:
        self._timer = asyncio.get_running_loop().call_later(SAMPLE_INTERVAL, self._tick)
        self.sample()

    def sample(self) -> None:
        printer = self.server.find(PrinterApi)
        readings = printer.temperature_sensors() if printer is not None else None
        if not readings:
            return
        for name, reading in readings.items():
            series = self.series.get(name)
            if series is None:
                series = self.series[name] = _Series()
            series.add(reading)

    def get_store(self, args: StoreArgs, request: Request) -> dict[str, object]:
        # no temperature monitors here: include_monitors changes nothing
        return {name: series.as_dict() for name, series in self.series.items()}


def load_component(server: ServerApi) -> TemperatureStore:
    return TemperatureStore(server)


COMPONENT = ComponentSpec(load_component, always=True, wants=(PrinterApi,))
