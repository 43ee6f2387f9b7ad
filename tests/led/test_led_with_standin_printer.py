"""The LED component against a stand-in printer implementing PrinterApi (until the lead's
end-to-end test with the virtual printer): events + query_status drive the virtual strip,
SET_LED arrives through the registered command handler, the neopixel object is published,
and the marlin backend's M150 goes out through run_gcode at a bounded rate."""

from __future__ import annotations

import asyncio
import datetime
import itertools
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from components.led.backends.marlin import MarlinBackend
from components.led.backends.virtual import VirtualBackend
from components.led.component import LedComponent
from components.printer.api import (
    CommandHandler,
    JobFinished,
    JobPaused,
    JobStarted,
    PrinterApi,
    PrinterStateChanged,
)
from gateway.errors import ServerError
from tests.harness import RunningServer, running_server

CONFIG = """
[server]
host: 127.0.0.1
port: 0

[led]
backend: virtual
led_count: 4
complete_time: 30
"""
BLACK = (0, 0, 0, 0)
RED = (255, 0, 0, 0)
BLUE = (0, 0, 255, 0)
GREEN = (0, 255, 0, 0)


class StandinPrinter:
    """Just enough of the printer component (the part of PrinterApi the LED component
    uses): a status model, commands, objects, G-code."""

    moonraker_names: tuple[str, ...] = ()

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    def __init__(self) -> None:
        self._state = "ready"
        self.status: dict[str, dict[str, Any]] = {
            "webhooks": {"state": "ready", "state_message": "Printer is ready"},
            "print_stats": {"state": "standby", "filename": ""},
            "virtual_sdcard": {"progress": 0.0},
            "heater_bed": {"temperature": 20.0, "target": 0.0},
            "extruder": {"temperature": 20.0, "target": 0.0},
        }
        self.commands: dict[str, CommandHandler] = {}
        self.objects: dict[str, dict[str, Any]] = {}
        self.object_updates = 0
        self.gcode: list[tuple[float, str]] = []
        self.config_sections: dict[str, tuple[dict[str, str], dict[str, Any]]] = {}
        self.responses: list[str] = []

    def add_config_section(self, name: str, config: dict[str, str],
                           settings: dict[str, Any]) -> None:
        self.config_sections[name] = (config, settings)

    def respond(self, line: str) -> None:
        self.responses.append(line)

    def filament_extruded(self) -> float:
        return 0.0

    @property
    def state(self) -> str:
        return self._state

    def set_state(self, state: str) -> None:
        self._state = state
        self.status["webhooks"]["state"] = state

    def query_status(self, objects: Mapping[str, Iterable[str] | None]
                     ) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for name, wanted in objects.items():
            fields = self.status.get(name)
            if fields is not None:
                keys = fields.keys() if wanted is None else wanted
                out[name] = {k: fields[k] for k in keys if k in fields}
        return out

    def check_gcode(self, script: str) -> None:
        pass

    async def run_gcode(self, script: str) -> None:
        self.gcode.append((asyncio.get_running_loop().time(), script))

    def temperature_sensors(self) -> None:
        return None

    async def start_print(self, filename: str) -> None:
        raise ServerError("not in the stand-in", 409)

    def register_command(self, name: str, handler: CommandHandler, description: str) -> None:
        self.commands[name.upper()] = handler

    def add_object(self, name: str, fields: dict[str, Any]) -> None:
        self.objects[name] = dict(fields)

    def update_object(self, name: str, fields: Mapping[str, Any]) -> None:
        self.objects[name].update(fields)  # KeyError for an unknown object, as the real one
        self.object_updates += 1

    async def console(self, line: str) -> None:
        """A line typed in the console: a host command gets its KEY=VALUE parameters."""
        word, *rest = line.split()
        params = {k.upper(): v for k, _, v in (part.partition("=") for part in rest)}
        result = self.commands[word.upper()](word.upper(), params)
        if result is not None:
            await result


@dataclass
class FakeClock:
    now: float = 1000.0
    local: datetime.time = datetime.time(12, 0)
    calls: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now


@dataclass
class Rig:
    srv: RunningServer
    led: LedComponent
    printer: StandinPrinter
    clock: FakeClock

    @property
    def strip(self) -> VirtualBackend:
        backend = self.led.backend
        assert isinstance(backend, VirtualBackend)
        return backend

    def tick(self, advance: float = 0.0) -> list[tuple[int, int, int, int]]:
        self.clock.now += advance
        return self.led.refresh()

    def set(self, obj: str, **fields: Any) -> None:
        self.printer.status[obj].update(fields)

    @property
    def color_data(self) -> list[list[float]]:
        data: list[list[float]] = self.printer.objects["neopixel status"]["color_data"]
        return data


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    async with running_server(tmp_path, CONFIG) as srv:
        led = srv.server.components["led"]
        assert isinstance(led, LedComponent)
        clock = FakeClock()
        led.clock = clock
        led.local_time = lambda: clock.local
        printer = StandinPrinter()
        real = srv.server.lookup(PrinterApi)
        srv.server.provide(PrinterApi, printer)  # type: ignore[arg-type]
        # the LED follows the stand-in from here on, whenever its own loop ran last
        led.refresh()
        try:
            yield Rig(srv, led, printer, clock)
        finally:
            srv.server.provide(PrinterApi, real)


async def test_heating_printing_complete_idle_on_the_virtual_strip(rig: Rig) -> None:
    rig.tick()
    assert rig.led.state()["state"] == "idle"
    assert rig.strip.frame == [(0, 255, 255, 0)] * 4
    # the bed heats first (its bar fills from where it was: 20 -> 60), then the hotend
    rig.set("heater_bed", target=60.0)
    rig.set("extruder", target=200.0)
    rig.set("print_stats", state="printing", filename="cube.gcode")
    rig.srv.server.events.emit(JobStarted("cube.gcode"))
    assert rig.tick() == [BLUE] * 4
    assert rig.led.state()["state"] == "heating"
    rig.set("heater_bed", temperature=40.0)
    assert rig.tick(1) == [RED, RED, BLUE, BLUE]
    rig.set("heater_bed", temperature=60.0)
    rig.set("extruder", temperature=155.0)  # 20 -> 200: three quarters
    assert rig.tick(1) == [RED, RED, RED, BLUE]
    rig.set("extruder", temperature=200.0)
    rig.set("virtual_sdcard", progress=0.5)
    assert rig.tick(1) == [GREEN, GREEN, BLACK, BLACK]
    assert rig.led.state()["state"] == "printing"
    rig.set("print_stats", state="paused")
    rig.srv.server.events.emit(JobPaused("cube.gcode"))
    assert rig.tick(99) == [(255, 255, 0, 0)] * 4  # blink, in its lit half
    rig.set("print_stats", state="printing")
    rig.set("virtual_sdcard", progress=1.0)
    rig.tick(1)
    rig.set("print_stats", state="complete")
    rig.set("heater_bed", target=0.0)
    rig.set("extruder", target=0.0)
    rig.srv.server.events.emit(JobFinished("cube.gcode", "completed"))
    rig.tick(1)
    assert rig.led.state()["state"] == "complete"
    assert len(set(rig.strip.frame)) == 4  # the rainbow: four different colours
    rig.tick(28.5)  # 29.5 s after JobFinished
    assert rig.led.state()["state"] == "complete"
    rig.tick(1)
    assert rig.led.state()["state"] == "idle"
    assert rig.strip.frame == [(0, 255, 255, 0)] * 4
    assert rig.color_data == [[0.0, 1.0, 1.0, 0.0]] * 4


async def test_state_changes_are_notified_once_each(rig: Rig) -> None:
    ws = await rig.srv.websocket()
    await ws.call("server.connection.identify", {
        "client_name": "t", "version": "1", "type": "web", "url": "http://x"})
    rig.tick()
    start = len(ws.notifications)
    rig.set("print_stats", state="printing")
    rig.tick(1)
    rig.tick(1)
    rig.printer.set_state("shutdown")
    rig.srv.server.events.emit(PrinterStateChanged("shutdown", "M112"))
    rig.tick(1)
    note = await ws.wait_notification("notify_led_update",
                                      lambda n: n["params"][0]["state"] == "error", start=start)
    assert note["params"][0]["printer_state"] == "error"
    states = [n["params"][0]["state"] for n in ws.notifications[start:]
              if n["method"] == "notify_led_update"]
    assert states == ["printing", "error"]


async def test_error_blinks_red(rig: Rig) -> None:
    rig.printer.set_state("error")
    rig.clock.now = 2000.0
    assert rig.tick() == [RED] * 4
    assert rig.tick(1.25) == [BLACK] * 4


async def test_set_led_through_the_registered_command(rig: Rig) -> None:
    rig.tick()
    assert "SET_LED" in rig.printer.commands
    assert "neopixel status" in rig.printer.objects
    assert rig.printer.config_sections["neopixel status"] == (
        {"chain_count": "4", "color_order": "GRB"},
        {"chain_count": 4, "color_order": ["GRB"], "initial_red": 0.0, "initial_green": 0.0,
         "initial_blue": 0.0, "initial_white": 0.0})
    await rig.printer.console("SET_LED LED=status RED=1 GREEN=0 BLUE=0.2")
    assert rig.strip.frame == [(255, 0, 51, 0)] * 4
    assert rig.led.state()["state"] == "manual"
    assert rig.color_data == [[1.0, 0.0, 0.2, 0.0]] * 4
    # one pixel (1-based), stored without showing until TRANSMIT=1
    await rig.printer.console("SET_LED LED=status GREEN=1 INDEX=2 TRANSMIT=0")
    assert rig.strip.frame == [(255, 0, 51, 0)] * 4
    await rig.printer.console("SET_LED LED=status BLUE=1 INDEX=4")
    assert rig.strip.frame == [(255, 0, 51, 0), GREEN, (255, 0, 51, 0), BLUE]
    assert rig.color_data[1] == [0.0, 1.0, 0.0, 0.0]
    # the manual colours last until the printer's state changes
    rig.tick(60)
    assert rig.led.state()["state"] == "manual"
    rig.set("print_stats", state="printing")
    rig.tick(1)
    assert rig.led.state()["state"] == "printing"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("SET_LED LED=other RED=1", "The value 'other' is not valid for LED"),
        ("SET_LED LED=status RED=2", "RED must be between 0.0 and 1.0"),
        ("SET_LED LED=status INDEX=9", "INDEX must be between 1 and 4"),
    ],
)
async def test_set_led_errors_reach_the_console(rig: Rig, line: str, message: str) -> None:
    rig.tick()
    with pytest.raises(ServerError, match=message) as info:
        await rig.printer.console(line)
    assert info.value.status == 400


async def test_neopixel_object_updates_are_rate_limited_while_animating(rig: Rig) -> None:
    rig.set("print_stats", state="paused")  # blink
    rig.tick()
    updates = rig.printer.object_updates
    for _ in range(20):
        rig.tick(0.05)  # one second of 20 Hz frames, the blink changes twice
    assert rig.printer.object_updates - updates <= 3


async def test_works_without_a_printer_and_picks_one_up_later(rig: Rig) -> None:
    server = rig.srv.server
    printer = server.lookup(PrinterApi)
    server.withdraw(PrinterApi)
    rig.clock.now = 3000.0
    rig.tick(1.0)  # the disconnected pulse at its peak
    assert rig.led.state()["state"] == "disconnected"
    assert rig.strip.frame == [BLUE] * 4
    fresh = StandinPrinter()
    server.provide(PrinterApi, fresh)  # type: ignore[arg-type]
    rig.tick(1)
    assert rig.led.state()["state"] == "idle"
    assert "SET_LED" in fresh.commands
    assert fresh.objects["neopixel status"]["color_data"] == [[0.0, 1.0, 1.0, 0.0]] * 4
    server.provide(PrinterApi, printer)


async def test_the_frame_loop_follows_printer_events_on_its_own(rig: Rig) -> None:
    rig.led.clock = time.monotonic
    rig.set("print_stats", state="printing")
    rig.set("virtual_sdcard", progress=0.25)
    rig.srv.server.events.emit(JobStarted("a.gcode"))
    deadline = time.monotonic() + 20
    while rig.strip.frame != [GREEN, BLACK, BLACK, BLACK]:
        assert time.monotonic() < deadline, rig.strip.frame
        await asyncio.sleep(0.01)


async def test_timed_torch_goes_out_on_the_injected_clock(rig: Rig) -> None:
    rig.led.controller.torch_mode = "timed"
    rig.led.controller.torch_time = 15.0
    await rig.led.command({"command": "torch_on"})
    assert rig.strip.frame == [(255, 255, 255, 255)] * 4
    assert rig.led.seed_state() == {"lights_on": True, "torch_on": True}
    rig.tick(14.9)
    assert rig.led.seed_state()["torch_on"] is True
    rig.tick(0.1)
    assert rig.led.seed_state() == {"lights_on": True, "torch_on": False}
    assert rig.strip.frame == [(0, 255, 255, 0)] * 4


async def test_active_hours_switch_the_strip_off_at_night(tmp_path: Path) -> None:
    async with running_server(tmp_path, CONFIG + "active_start: 08:00\nactive_end: 22:00\n"
                              ) as srv:
        led = srv.server.components["led"]
        assert isinstance(led, LedComponent)
        led.local_time = lambda: datetime.time(23, 15)
        assert led.refresh() == [BLACK] * 4
        assert led.state()["active_hours"] is False
        assert led.state()["state"] == "inactive"
        assert led.seed_state()["lights_on"] is True
        led.local_time = lambda: datetime.time(8, 0)
        led.refresh()
        assert led.state()["state"] != "inactive"


# -- marlin backend: M150 through run_gcode ---------------------------------------------


async def test_marlin_m150_at_a_bounded_rate_and_only_on_change() -> None:
    printer = StandinPrinter()
    backend = MarlinBackend(lambda: printer, 1.0, has_white=False, min_interval=0.25,
                            per_pixel=False)
    await backend.start()
    try:
        loop = asyncio.get_running_loop()
        end = loop.time() + 1.0
        level = 0
        while loop.time() < end:
            level += 1
            backend.show([(level % 256, 0, 0, 0)] * 3)
            await asyncio.sleep(0.01)
        final = f"M150 R{level % 256} U0 B0 P255"
        deadline = time.monotonic() + 10
        while not printer.gcode or printer.gcode[-1][1] != final:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.01)
        sent = len(printer.gcode)
        # the same frame again sends nothing
        for _ in range(5):
            backend.show([(level % 256, 0, 0, 0)] * 3)
        await asyncio.sleep(0.4)
        assert len(printer.gcode) == sent
    finally:
        await backend.stop()
    times = [t for t, _ in printer.gcode]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert all(gap >= 0.24 for gap in gaps), gaps
    assert 2 <= len(times) <= 7
    assert all(script.startswith("M150 R") for _, script in printer.gcode)


async def test_marlin_waits_for_a_ready_printer() -> None:
    printer = StandinPrinter()
    printer.set_state("disconnected")
    backend = MarlinBackend(lambda: printer, 0.5, has_white=True, min_interval=0.0,
                            per_pixel=True)
    await backend.start()
    try:
        backend.show([RED, BLUE])
        await asyncio.sleep(0.05)
        assert printer.gcode == []
        printer.set_state("ready")
        backend.show([RED, BLUE])
        deadline = time.monotonic() + 10
        while not printer.gcode:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.01)
    finally:
        await backend.stop()
    assert printer.gcode[0][1] == ("M150 I0 R255 U0 B0 W0 P128\n"
                                   "M150 I1 R0 U0 B255 W0 P128")


async def test_a_failing_status_query_shows_disconnected_and_warns_once(
        rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    def broken(objects: Mapping[str, Iterable[str] | None]) -> dict[str, dict[str, Any]]:
        raise RuntimeError("model rebuilding")

    rig.printer.query_status = broken  # type: ignore[method-assign]
    rig.tick(1)
    rig.tick(1)
    assert rig.led.state()["state"] == "disconnected"
    warnings = [r.getMessage() for r in caplog.records if r.name == "components.led.component"]
    assert warnings == ["led: printer status unavailable: model rebuilding"]


async def test_marlin_backend_from_config_follows_the_printer(tmp_path: Path) -> None:
    config = CONFIG.replace("backend: virtual", "backend: marlin\nmarlin_min_interval: 0.1")
    async with running_server(tmp_path, config) as srv:
        led = srv.server.components["led"]
        assert isinstance(led, LedComponent)
        printer = StandinPrinter()
        real = srv.server.lookup(PrinterApi)
        srv.server.provide(PrinterApi, printer)  # type: ignore[arg-type]
        try:
            led.refresh()
            printer.status["print_stats"]["state"] = "printing"
            printer.status["virtual_sdcard"]["progress"] = 0.5
            led.refresh()
            deadline = time.monotonic() + 20
            # brightness 0.5 -> P128; the half-full bar is sent as its mean colour
            while not printer.gcode or printer.gcode[-1][1] != "M150 R0 U128 B0 P128":
                assert time.monotonic() < deadline, printer.gcode
                await asyncio.sleep(0.01)
        finally:
            srv.server.provide(PrinterApi, real)
    # frames superseded before their turn (idle cyan, here) are never sent
    assert len(printer.gcode) <= 2
