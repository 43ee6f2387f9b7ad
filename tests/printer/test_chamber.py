"""A heated chamber (Marlin HEATED_CHAMBER: M141/M191, Cap:CHAMBER_TEMPERATURE:1, "C:" in
the temperature reports) is Klipper's `heater_generic chamber`."""

from __future__ import annotations

from pathlib import Path

from tests.harness import running_server
from tests.printer.conftest import FAST_PRINTER, printer_of, virtual_of, wait_until

CHAMBER = "heater_generic chamber"
CONFIG = FAST_PRINTER + "virtual_heated_chamber: True\n"


async def test_set_heater_temperature_heats_the_chamber(tmp_path: Path) -> None:
    async with running_server(tmp_path, CONFIG) as srv:
        printer = printer_of(srv)
        await wait_until(lambda: printer.state == "ready", what="printer ready")
        ws = await srv.websocket()
        try:
            # there at ready (the connect's temperature report), as a heater and a sensor
            heaters = (await ws.call("printer.objects.query", {"objects": {"heaters": None}})
                       )["status"]["heaters"]
            assert CHAMBER in heaters["available_heaters"]
            assert CHAMBER in heaters["available_sensors"]
            assert "temperature_sensor chamber" not in heaters["available_sensors"]
            assert await ws.call("printer.gcode.script",
                                 {"script": "SET_HEATER_TEMPERATURE HEATER=chamber TARGET=40"}
                                 ) == "ok"
            vp = virtual_of(srv)
            assert vp.executed[-1] == "M141 S40"
            assert vp.firmware.thermal.chamber is not None
            assert vp.firmware.thermal.chamber.target == 40.0

            async def chamber() -> dict[str, float]:
                reply = await ws.call("printer.objects.query", {"objects": {CHAMBER: None}})
                return reply["status"][CHAMBER]  # type: ignore[no-any-return]

            assert (await chamber())["target"] == 40.0
            # the firmware's own reports: warming, with power
            await wait_until(lambda: (printer.query_status({CHAMBER: ["temperature"]})[CHAMBER]
                                      ["temperature"] > 25.0), what="the chamber warming")
            fields = await chamber()
            assert set(fields) == {"temperature", "target", "power"}
            assert fields["target"] == 40.0 and fields["power"] > 0.0
            # Klipper's range check ([printer] chamber_max_temp, 60)
            answer = await ws.request("printer.gcode.script",
                                      {"script": "SET_HEATER_TEMPERATURE HEATER=chamber "
                                                 "TARGET=90"})
            assert "out of range (0.0:60.0)" in answer["error"]["message"]
            assert await ws.call("printer.gcode.script", {"script": "TURN_OFF_HEATERS"}) == "ok"
            assert "M141 S0" in vp.executed[-3:]
            assert (await chamber())["target"] == 0.0
        finally:
            await ws.close()


async def test_without_a_heated_chamber_there_is_no_chamber_heater(tmp_path: Path) -> None:
    config = FAST_PRINTER + "virtual_extra_sensors: C\n"
    async with running_server(tmp_path, config) as srv:
        printer = printer_of(srv)
        await wait_until(lambda: printer.state == "ready", what="printer ready")
        heaters = printer.query_status({"heaters": None})["heaters"]
        assert CHAMBER not in heaters["available_heaters"]
        assert "temperature_sensor chamber" in heaters["available_sensors"]
        ws = await srv.websocket()
        try:
            answer = await ws.request("printer.gcode.script",
                                      {"script": "SET_HEATER_TEMPERATURE HEATER=chamber "
                                                 "TARGET=40"})
            assert "The value 'chamber' is not valid for HEATER" in answer["error"]["message"]
        finally:
            await ws.close()
