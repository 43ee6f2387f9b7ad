"""The sensor component: `[sensor NAME]` sources (MQTT topics, the printer's own extra
sensors), Moonraker's server.sensors.* API and `notify_sensor_update`, and per-job summaries
(history fields) added to the job history.

Once a second every sensor's latest measurement is kept (`sensor_store_size` values per
parameter) and the sensors whose values changed are announced in one notification.

Events consumed: JobStarted, JobPaused, JobResumed, JobFinished.
Events emitted: SensorsUpdated (api.py).
Notifications sent: notify_sensor_update([{sensor_id: values}]).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from components.history.api import HistoryApi
from components.history.auxiliary import AuxiliaryField
from components.mqtt.api import MqttApi
from components.printer.api import JobFinished, JobPaused, JobResumed, JobStarted, PrinterApi
from components.sensor.api import SensorsUpdated
from components.sensor.config import (
    DYNAMIC,
    SECTIONS,
    MqttSensorSection,
    PrinterSensorSection,
    history_fields,
    parameters,
)
from components.sensor.sensors import MqttSource, PrinterSource, Sensor
from gateway.component import BaseComponent
from gateway.config import ConfigError

if TYPE_CHECKING:
    from gateway.api import ServerApi

log = logging.getLogger(__name__)

TICK = 1.0


class SensorComponent(BaseComponent):
    moonraker_names = ("sensor",)

    def __init__(self, server: ServerApi) -> None:
        self.server = server
        self.sensors: dict[str, Sensor] = {}
        self.mqtt_sources: list[MqttSource] = []
        self.printer_sources: list[PrinterSource] = []
        for sensor_id in server.config.prefixed_sections("sensor"):
            self._add(sensor_id)
        self._finished: list[AuxiliaryField] | None = None
        self._job_active = False
        self._task: asyncio.Task[None] | None = None
        events = server.events
        self._unsubscribe: list[Callable[[], None]] = [
            events.subscribe(JobStarted, self._on_started),
            events.subscribe(JobPaused, lambda _: self._set_paused(True)),
            events.subscribe(JobResumed, lambda _: self._set_paused(False)),
            events.subscribe(JobFinished, self._on_finished),
        ]
        from components.sensor.endpoints import register

        register(server, self)

    def _add(self, sensor_id: str) -> None:
        section = f"sensor {sensor_id}"
        config = self.server.config
        kind = config.raw(section).get("type", "").strip()
        struct = SECTIONS.get(kind)
        if struct is None:
            raise ConfigError(f"[{section}] option 'type': expected one of "
                              f"{', '.join(SECTIONS)}, got {kind!r}")
        typed = config.section(section, struct, dynamic=DYNAMIC)
        sensor = Sensor(sensor_id, typed, parameters(config, section),
                        history_fields(config, section))
        try:
            if isinstance(typed, MqttSensorSection):
                mqtt = self.server.find(MqttApi)
                if mqtt is None:
                    raise ValueError("option 'type': mqtt sensors need the [mqtt] section")
                self.mqtt_sources.append(MqttSource(sensor, typed, mqtt))
            elif isinstance(typed, PrinterSensorSection):
                self.printer_sources.append(PrinterSource(sensor, typed, self._printer))
        except ValueError as exc:
            raise ConfigError(f"[{section}] {exc}") from None
        self.sensors[sensor_id] = sensor

    def _printer(self) -> PrinterApi | None:
        return self.server.find(PrinterApi)

    # -- life cycle ---------------------------------------------------------------------

    async def start(self) -> None:
        history = self.server.find(HistoryApi)
        if history is not None and any(s.trackers for s in self.sensors.values()):
            history.add_auxiliary_provider(self)
        for source in self.mqtt_sources:
            source.start()
        self._declare_printer_sensors()
        self._task = asyncio.get_running_loop().create_task(self._tick_loop(), name="sensor")

    def _declare_printer_sensors(self) -> None:
        """The printer publishes a firmware sensor when its first report arrives; a
        configured one is published now, so that frontends subscribing as soon as the
        printer is ready already see it (they subscribe to the objects listed then)."""
        printer = self.server.find(PrinterApi)
        if printer is None:
            return
        for source in self.printer_sources:
            name = source.object
            if not name.startswith("temperature_sensor ") or printer.query_status({name: None}):
                continue
            printer.add_object(name, {"temperature": 0.0, "measured_min_temp": None,
                                      "measured_max_temp": None})
            heaters = printer.query_status({"heaters": ["available_sensors"]}).get("heaters")
            listed = (heaters or {}).get("available_sensors")
            sensors = [str(n) for n in listed] if isinstance(listed, list) else []
            if name not in sensors:
                printer.update_object("heaters", {"available_sensors": [*sensors, name]})

    async def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        for source in self.mqtt_sources:
            source.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _tick_loop(self) -> None:
        while True:
            try:
                self.tick()
            except Exception:
                log.exception("sensor: tick failed")
            await asyncio.sleep(TICK)

    def tick(self) -> dict[str, dict[str, float]]:
        for source in self.printer_sources:
            source.poll()
        changed = {sensor_id: dict(sensor.measurement)
                   for sensor_id, sensor in self.sensors.items() if sensor.tick()}
        if changed:
            self.server.send_notification("notify_sensor_update", [changed])
            self.server.events.emit(SensorsUpdated(changed))
        return changed

    # -- jobs and history ---------------------------------------------------------------

    def _on_started(self, event: JobStarted) -> None:
        self._finished = None
        self._job_active = True
        for sensor in self.sensors.values():
            sensor.start_job()

    def _set_paused(self, paused: bool) -> None:
        for sensor in self.sensors.values():
            sensor.set_paused(paused)

    def _on_finished(self, event: JobFinished) -> None:
        # the history asks a moment later; a new job may have started by then
        self._finished = self._results()
        self._job_active = False

    def _results(self) -> list[AuxiliaryField]:
        out = []
        for sensor in self.sensors.values():
            for tracker in sensor.trackers:
                f = tracker.field
                out.append(AuxiliaryField(
                    provider=tracker.provider, name=f.field, value=tracker.result(),
                    description=f.description, units=f.units,
                    report_total=f.report_total and f.strategy != "collect",
                    report_maximum=f.report_maximum and f.strategy != "collect"))
        return out

    def job_auxiliary(self) -> list[AuxiliaryField]:
        finished, self._finished = self._finished, None
        return finished if finished is not None else self._results()

    def auxiliary_fields(self) -> list[tuple[str, str]]:
        return [(t.provider, t.field.field) for s in self.sensors.values()
                for t in s.trackers
                if (t.field.report_total or t.field.report_maximum)
                and t.field.strategy != "collect"]
