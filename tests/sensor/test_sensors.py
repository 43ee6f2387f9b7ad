"""[sensor NAME]: an MQTT power meter on a real Mosquitto broker and the printer's own
chamber/probe/board sensors, through server.sensors.*, notify_sensor_update, and the
per-job summaries (history fields) in the job history."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.broker import Mosquitto, probe
from tests.harness import RunningServer, running_server, wait_for
from tests.printer.conftest import FAST_PRINTER, printer_of, write_gcode


def config(port: int) -> str:
    return FAST_PRINTER + f"""virtual_extra_sensors: CPM

[mqtt]
address: 127.0.0.1
port: {port}
instance_name: farm2

[sensor meter]
type: mqtt
name: Power meter
state_topic: shellies/meter/status
state_response_template:
  {{% set data = payload|fromjson %}}
  {{set_result("power", data["apower"]|float)}}
  {{set_result("energy", data["aenergy"]["total"] * 0.001)}}
parameter_power:
  units=W
parameter_energy:
  units=kWh
history_field_energy_used:
  parameter=energy
  desc=Printer energy used
  strategy=delta
  units=kWh
  precision=3
  report_total=true
  report_maximum=true
history_field_peak_power:
  parameter=power
  desc=Peak power
  strategy=maximum
  units=W
history_field_mean_power:
  parameter=power
  desc=Mean power
  strategy=average
  units=W
  exclude_paused=true

[sensor chamber]
type: printer
name: Chamber

[sensor board]
type: printer
object: temperature_sensor board
"""


def sensor(srv: RunningServer, sensor_id: str) -> Any:
    return srv.server.components["sensor"].sensors[sensor_id]  # type: ignore[attr-defined]


async def test_mqtt_and_printer_sensors_through_the_api_and_into_the_history(
    tmp_path: Path, broker: Mosquitto
) -> None:
    async with probe(broker.port) as meter, \
            running_server(tmp_path / "srv", config(broker.port)) as srv:
        mqtt: Any = srv.server.components["mqtt"]
        await wait_for(lambda: "shellies/meter/status" in mqtt.client.acknowledged,
                       what="subscribed")
        ws = await srv.websocket()
        assert "sensor" in (await ws.call("server.info"))["components"]

        async def reading(apower: float, total_wh: float) -> None:
            await meter.publish("shellies/meter/status",
                                {"apower": apower, "aenergy": {"total": total_wh}})
            await wait_for(lambda: sensor(srv, "meter").measurement.get("power") == apower,
                           what=f"power {apower}")

        await reading(20.0, 1000.0)
        note = await ws.wait_notification(
            "notify_sensor_update", lambda n: "meter" in n["params"][0])
        assert note["params"][0]["meter"] == {"power": 20.0, "energy": 1.0}
        listed = await ws.call("server.sensors.list")
        assert listed["sensors"]["meter"] == {
            "id": "meter", "friendly_name": "Power meter", "type": "mqtt",
            "values": {"power": 20.0, "energy": 1.0}}
        info = await ws.call("server.sensors.info", {"sensor": "meter", "extended": True})
        assert info["parameter_info"] == [{"units": "W", "name": "power"},
                                          {"units": "kWh", "name": "energy"}]
        fields = {f["field"]: f for f in info["history_fields"]}
        assert fields["energy_used"] == {
            "field": "energy_used", "provider": "sensor meter",
            "description": "Printer energy used", "strategy": "delta", "units": "kWh",
            "init_tracker": False, "exclude_paused": False, "report_total": True,
            "report_maximum": True, "precision": 3, "parameter": "energy"}

        # the printer's own sensors, as the firmware reports them (C:, P:, M:)
        printer = printer_of(srv)
        await wait_for(lambda: printer.state == "ready", what="printer ready")
        await wait_for(lambda: "temperature" in sensor(srv, "chamber").last_value,
                       what="chamber measured")
        chamber = await ws.call("server.sensors.info", {"sensor": "chamber"})
        assert chamber["type"] == "printer" and chamber["friendly_name"] == "Chamber"
        assert 15.0 < chamber["values"]["temperature"] < 60.0
        await wait_for(lambda: "temperature" in sensor(srv, "board").last_value,
                       what="board measured")
        heaters = printer.query_status({"heaters": ["available_sensors"]})["heaters"]
        assert {"temperature_sensor chamber", "temperature_sensor probe",
                "temperature_sensor board"} <= set(heaters["available_sensors"])

        # a job: energy 1.1 → 1.4 kWh (delta from the first reading in the job), power
        # peaking at 250 W, one reading while paused
        lines = ["M302 P1", "G28"] + [f"G1 X{10 + i % 50} F3000" for i in range(4000)]
        write_gcode(srv, "job.gcode", lines)
        await ws.call("printer.print.start", {"filename": "job.gcode"})
        await ws.wait_notification("notify_history_changed",
                                   lambda n: n["params"][0]["action"] == "added")
        await reading(150.0, 1100.0)
        await reading(250.0, 1300.0)
        await ws.call("printer.print.pause")
        await wait_for(lambda: sensor(srv, "meter").paused, what="paused")
        await reading(10.0, 1310.0)
        await ws.call("printer.print.resume")
        await wait_for(lambda: not sensor(srv, "meter").paused, what="resumed")
        await reading(50.0, 1400.0)
        await ws.call("printer.print.cancel")
        finished = await ws.wait_notification(
            "notify_history_changed", lambda n: n["params"][0]["action"] == "finished")
        job = finished["params"][0]["job"]
        assert job["status"] == "cancelled"
        aux = {a["name"]: a for a in job["auxiliary_data"]}
        assert aux["energy_used"] == {"provider": "sensor meter", "name": "energy_used",
                                      "value": 0.3, "description": "Printer energy used",
                                      "units": "kWh"}
        assert aux["peak_power"]["value"] == 250.0
        # the paused reading (10 W) is left out of the mean
        assert aux["mean_power"]["value"] == pytest.approx((150 + 250 + 50) / 3)
        stored = await ws.call("server.history.get_job", {"uid": job["job_id"]})
        assert stored["job"]["auxiliary_data"] == job["auxiliary_data"]
        totals = await ws.call("server.history.totals")
        assert totals["auxiliary_totals"] == [{"provider": "sensor meter",
                                               "field": "energy_used", "maximum": 0.3,
                                               "total": 0.3}]
        # the kept measurements, once a second
        async def kept() -> bool:
            measured = await ws.call("server.sensors.measurements", {"sensor": "meter"})
            return 50.0 in measured["meter"]["power"]

        await wait_for(kept, what="the last reading kept")
        everything = await ws.call("server.sensors.measurements")
        assert set(everything) == {"meter", "chamber", "board"}
        reply = await ws.request("server.sensors.info", {"sensor": "nope"})
        assert reply["error"]["code"] == -32601


async def test_a_bad_payload_is_a_warning_and_keeps_the_last_values(
    tmp_path: Path, broker: Mosquitto, caplog: pytest.LogCaptureFixture
) -> None:
    async with probe(broker.port) as meter, \
            running_server(tmp_path / "srv", config(broker.port)) as srv:
        mqtt: Any = srv.server.components["mqtt"]
        await wait_for(lambda: "shellies/meter/status" in mqtt.client.acknowledged,
                       what="subscribed")
        await meter.publish("shellies/meter/status", b"not json")
        await wait_for(lambda: sensor(srv, "meter").error is not None, what="an error")
        assert "state_response_template" in sensor(srv, "meter").error
        assert sensor(srv, "meter").measurement == {}
