"""`type: gpio` through libgpiod v2: the pin syntax, a machine without the chip (an error
naming the device and the chip), and a real line of the kernel's gpio-sim when the
machine has it."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from components.power.gpio import PinSpec, parse_pin

if TYPE_CHECKING:
    from gpiod import LineSettings
from tests.harness import running_server, wait_for

CONFIGFS = Path("/sys/kernel/config/gpio-sim")


@pytest.mark.parametrize(("text", "spec"), [
    ("gpio26", PinSpec("gpiochip0", 26, False)),
    ("gpiochip0/gpio26", PinSpec("gpiochip0", 26, False)),
    ("!gpiochip3/gpio7", PinSpec("gpiochip3", 7, True)),
    ("!gpio16", PinSpec("gpiochip0", 16, True)),
    (" gpio5 ", PinSpec("gpiochip0", 5, False)),
])
def test_pins_are_read_as_moonraker_reads_them(text: str, spec: PinSpec) -> None:
    assert parse_pin(text) == spec
    assert spec.chip_path == Path("/dev") / spec.chip


@pytest.mark.parametrize("text", ["26", "gpio", "chip0/gpio1", "!!gpio1", "gpio-1", "PA13"])
def test_bad_pins_name_the_option(text: str) -> None:
    with pytest.raises(ValueError, match="option 'pin'"):
        parse_pin(text)


async def test_a_missing_chip_is_an_error_naming_the_device_and_the_chip(
    tmp_path: Path,
) -> None:
    config = """
[server]
host: 127.0.0.1
port: 0

[power relay]
type: gpio
pin: gpiochip97/gpio3
"""
    async with running_server(tmp_path, config) as srv:
        ws = await srv.websocket()

        async def listed() -> bool:
            reply = await ws.call("machine.device_power.devices")
            return bool(reply["devices"][0]["status"] == "error")

        await wait_for(listed, what="the device in error")
        reply = await ws.request("machine.device_power.post_device",
                                 {"device": "relay", "action": "on"})
        assert reply["error"]["code"] == 502
        message = reply["error"]["message"]
        assert "relay" in message and "/dev/gpiochip97" in message
        # the rest of the server works
        assert "power" in (await ws.call("server.info"))["components"]


def _gpio_sim_reason() -> str | None:
    if not CONFIGFS.is_dir():
        return ("gpio-sim is not available: needs configfs mounted at /sys/kernel/config "
                "and the gpio-sim kernel module (modprobe gpio-sim), as root")
    if os.geteuid() != 0:
        return "gpio-sim needs root to create a simulated chip"
    return None


@pytest.fixture
def sim_chip() -> Iterator[tuple[str, Path]]:
    """A gpio-sim chip with 8 lines: (chip name, sysfs dir of its lines)."""
    reason = _gpio_sim_reason()
    if reason is not None:
        pytest.skip(reason)
    device = CONFIGFS / f"skysail{os.getpid()}"
    bank = device / "bank0"
    bank.mkdir(parents=True)
    (bank / "num_lines").write_text("8")
    (device / "live").write_text("1")
    try:
        chip = (bank / "chip_name").read_text().strip()
        dev_name = (device / "dev_name").read_text().strip()
        yield chip, Path("/sys/devices/platform") / dev_name / chip
    finally:
        (device / "live").write_text("0")
        bank.rmdir()
        device.rmdir()


def _line_value(sysfs: Path, offset: int) -> int:
    return int((sysfs / f"sim_gpio{offset}" / "value").read_text())


async def test_a_gpio_sim_line_follows_the_device(
    tmp_path: Path, sim_chip: tuple[str, Path]
) -> None:
    chip, sysfs = sim_chip
    config = f"""
[server]
host: 127.0.0.1
port: 0

[power relay]
type: gpio
pin: {chip}/gpio3
initial_state: on

[power inverted]
type: gpio
pin: !{chip}/gpio4
"""
    async with running_server(tmp_path, config) as srv:
        ws = await srv.websocket()
        deadline = time.monotonic() + 10
        while (await ws.call("machine.device_power.status", {"relay": None}))["relay"] != "on":
            assert time.monotonic() < deadline
        assert _line_value(sysfs, 3) == 1
        assert _line_value(sysfs, 4) == 1  # inverted and off: the line is high
        await ws.call("machine.device_power.post_device", {"device": "relay", "action": "off"})
        assert _line_value(sysfs, 3) == 0
        await ws.call("machine.device_power.post_device",
                      {"device": "inverted", "action": "on"})
        assert _line_value(sysfs, 4) == 0


class SimulatedChip:
    """Where gpio-sim is missing: the kernel side of `gpiod.request_lines`, keeping each
    line's physical level as the kernel would (a line requested active-low is driven low
    when its value is ACTIVE). The code under test (pin options → line settings, on/off
    → values, reading back) runs unchanged against it."""

    def __init__(self) -> None:
        self.levels: dict[int, int] = {}
        self.active_low: dict[int, bool] = {}
        self.requests: list[tuple[str, str]] = []

    def request_lines(self, path: str, consumer: str, config: dict[int, LineSettings]) -> object:
        from gpiod.line import Direction, Value

        self.requests.append((path, consumer))
        chip = self
        for offset, settings in config.items():
            assert settings.direction == Direction.OUTPUT
            low = settings.active_low
            chip.active_low[offset] = low
            chip.levels[offset] = int((settings.output_value == Value.ACTIVE) != low)

        class Request:
            def set_value(self, offset: int, value: object) -> None:
                chip.levels[offset] = int((value == Value.ACTIVE) != chip.active_low[offset])

            def get_value(self, offset: int) -> object:
                active = bool(chip.levels[offset]) != chip.active_low[offset]
                return Value.ACTIVE if active else Value.INACTIVE

            def release(self) -> None:
                pass

        return Request()


async def test_the_line_logic_on_a_simulated_chip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gpiod

    chip = SimulatedChip()
    (tmp_path / "gpiochip5").touch()
    monkeypatch.setattr(PinSpec, "chip_path", property(lambda spec: tmp_path / spec.chip))
    monkeypatch.setattr(gpiod, "request_lines", chip.request_lines)
    config = """
[server]
host: 127.0.0.1
port: 0

[power relay]
type: gpio
pin: gpiochip5/gpio3
initial_state: on

[power inverted]
type: gpio
pin: !gpiochip5/gpio4
"""
    async with running_server(tmp_path / "data", config) as srv:
        ws = await srv.websocket()

        async def relay_on() -> bool:
            status = await ws.call("machine.device_power.status", {"relay": None})
            return bool(status["relay"] == "on")

        await wait_for(relay_on, what="the relay in its initial state")
        assert chip.levels == {3: 1, 4: 1}  # inverted and off: the line is high
        assert {path for path, _ in chip.requests} == {str(tmp_path / "gpiochip5")}
        reply = await ws.call("machine.device_power.post_device",
                              {"device": "relay", "action": "off"})
        assert reply == {"relay": "off"} and chip.levels[3] == 0
        reply = await ws.call("machine.device_power.post_device",
                              {"device": "inverted", "action": "on"})
        assert reply == {"inverted": "on"} and chip.levels[4] == 0
        chip.levels[4] = 1  # something else drove the line: the state follows the line
        status = await ws.call("machine.device_power.status", {"inverted": None})
        assert status == {"inverted": "off"}
