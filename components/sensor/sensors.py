"""One sensor: its latest measurement, the values kept once a second, its parameters and
its history fields; and where measurements come from (`mqtt`, `printer`)."""

from __future__ import annotations

import collections
import logging
import math
from collections.abc import Callable, Mapping

from components.mqtt.api import MqttApi
from components.printer.api import PrinterApi
from components.sensor.config import (
    HistoryField,
    MqttSensorSection,
    PrinterSensorSection,
    SensorSection,
)
from components.sensor.tracking import FieldTracker
from components.templating import Template, TemplateError

log = logging.getLogger(__name__)

Measurement = dict[str, float]


class Sensor:
    def __init__(self, sensor_id: str, config: SensorSection,
                 parameters: list[dict[str, str]], fields: list[HistoryField]) -> None:
        self.id = sensor_id
        self.config = config
        self.type = config.type
        self.friendly_name = config.name or sensor_id
        self.parameters = parameters
        provider = f"sensor {sensor_id}"
        self.trackers = [FieldTracker(f, provider) for f in fields]
        self.measurement: Measurement = {}
        self.last_value: Measurement = {}
        self.values: dict[str, collections.deque[float]] = {}
        self.error: str | None = None
        self.paused = False

    def measure(self, values: Mapping[str, float]) -> None:
        """New readings (from the sensor's source)."""
        self.measurement.update(values)
        self.error = None
        for tracker in self.trackers:
            value = values.get(tracker.field.parameter)
            if value is not None:
                tracker.update(value, self.paused)

    def tick(self) -> bool:
        """Keep the latest measurement (once a second); True when it changed."""
        if not self.measurement:
            return False
        size = self.config.sensor_store_size
        for name, value in self.measurement.items():
            self.values.setdefault(name, collections.deque(maxlen=size)).append(value)
        changed = self.measurement != self.last_value
        self.last_value = dict(self.measurement)
        return changed

    def start_job(self) -> None:
        self.paused = False
        for tracker in self.trackers:
            tracker.reset(self.measurement.get(tracker.field.parameter))

    def set_paused(self, paused: bool) -> None:
        self.paused = paused
        if paused:
            for tracker in self.trackers:
                tracker.pause_break()

    def info(self, extended: bool) -> dict[str, object]:
        out: dict[str, object] = {"id": self.id, "friendly_name": self.friendly_name,
                               "type": self.type, "values": dict(self.last_value)}
        if extended:
            out["parameter_info"] = [dict(p) for p in self.parameters]
            out["history_fields"] = [t.info() for t in self.trackers]
        return out

    def measurements(self) -> dict[str, list[float]]:
        return {name: list(values) for name, values in self.values.items()}


def _number(value: object) -> float:
    if not isinstance(value, int | float | str):
        raise ValueError(f"not a number: {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"not a finite number: {value!r}")
    return number


class MqttSource:
    """`state_response_template` renders each payload; it calls
    `set_result(name, value)` once per measurement."""

    def __init__(self, sensor: Sensor, config: MqttSensorSection, mqtt: MqttApi) -> None:
        self.sensor = sensor
        self.config = config
        self.mqtt = mqtt
        self.template = Template(config.state_response_template,
                                 option="state_response_template")

    def start(self) -> None:
        self.mqtt.subscribe(self.config.state_topic, self._on_payload, self.config.qos)

    def close(self) -> None:
        self.mqtt.unsubscribe(self.config.state_topic, self._on_payload)

    def _on_payload(self, payload: bytes) -> None:
        results: Measurement = {}

        def set_result(name: str, value: object) -> str:
            results[str(name)] = _number(value)
            return ""

        try:
            self.template.render(payload=payload.decode(errors="replace"),
                                 set_result=set_result)
        except TemplateError as exc:
            if self.sensor.error != str(exc):
                log.warning("sensor %s: %s", self.sensor.id, exc)
            self.sensor.error = str(exc)
            return
        if results:
            # kept and announced at the next once-a-second tick
            self.sensor.measure(results)


class PrinterSource:
    """A Klipper-style object of the printer (`temperature_sensor chamber` …), read on
    every tick while the printer is ready."""

    def __init__(self, sensor: Sensor, config: PrinterSensorSection,
                 printer: Callable[[], PrinterApi | None]) -> None:
        self.sensor = sensor
        self.object = config.object or f"temperature_sensor {sensor.id}"
        self.fields = list(config.fields)
        self._printer = printer

    def poll(self) -> bool:
        printer = self._printer()
        if printer is None or printer.state != "ready":
            return False
        status = printer.query_status({self.object: self.fields}).get(self.object)
        if not status:
            return False
        values: Measurement = {}
        for name in self.fields:
            value = status.get(name)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                values[name] = float(value)
        if values:
            self.sensor.measure(values)
        return bool(values)
