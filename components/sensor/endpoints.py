"""server.sensors.*: Moonraker's sensor API."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from msgspec import Meta

from gateway.errors import NotFound
from gateway.params import Params
from gateway.request import Request

if TYPE_CHECKING:
    from components.sensor.component import SensorComponent
    from components.sensor.sensors import Sensor
    from gateway.api import ServerApi


class ListArgs(Params):
    extended: bool = False


class InfoArgs(Params):
    sensor: Annotated[str, Meta(min_length=1)]
    extended: bool = False


class MeasurementArgs(Params):
    sensor: str | None = None


def register(server: ServerApi, component: SensorComponent) -> None:
    def lookup(sensor_id: str) -> Sensor:
        sensor = component.sensors.get(sensor_id)
        if sensor is None:
            raise NotFound(f"No valid sensor named {sensor_id}")
        return sensor

    def list_sensors(args: ListArgs, request: Request) -> dict[str, object]:
        return {"sensors": {sid: s.info(args.extended)
                            for sid, s in component.sensors.items()}}

    def info(args: InfoArgs, request: Request) -> dict[str, object]:
        result: dict[str, object] = lookup(args.sensor).info(args.extended)
        return result

    def measurements(args: MeasurementArgs, request: Request) -> dict[str, object]:
        if args.sensor is not None:
            return {args.sensor: lookup(args.sensor).measurements()}
        return {sid: s.measurements() for sid, s in component.sensors.items()}

    reg = server.register_endpoint
    reg("server.sensors.list", list_sensors, params=ListArgs, http="GET /server/sensors/list")
    reg("server.sensors.info", info, params=InfoArgs, http="GET /server/sensors/info")
    reg("server.sensors.measurements", measurements, params=MeasurementArgs,
        http="GET /server/sensors/measurements")
