"""The rpi_ws281x backend's child process and its JSON-lines protocol.

The hardware is absent here, so (and only here) a tiny stand-in for the rpi_ws281x library is
written into the test's directory and put on the child's PYTHONPATH; it records every call.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest

from components.led.backends import LedBackendError
from components.led.backends.ws281x import Ws281xBackend, Ws281xSettings
from components.led.ws281x_child import NOT_INSTALLED, diagnose, pack
from tests.harness import running_server

FAKE_LIBRARY = '''
import json, os

class _Ws:
    WS2811_STRIP_RGB = 0x100800
    WS2811_STRIP_GRB = 0x081000
    SK6812_STRIP_GRBW = 0x18081000

ws = _Ws()

def _record(**entry):
    with open(os.environ["FAKE_WS281X_LOG"], "a") as f:
        f.write(json.dumps(entry) + "\\n")

class PixelStrip:
    def __init__(self, num, pin, freq_hz=800000, dma=10, invert=False, brightness=255,
                 channel=0, strip_type=None):
        self.pixels = [0] * num
        self.shows = 0
        _record(call="init", num=num, pin=pin, freq=freq_hz, dma=dma, invert=invert,
                brightness=brightness, channel=channel, strip_type=strip_type)

    def begin(self):
        print("chatter from the library")  # must not disturb the protocol
        if os.environ.get("FAKE_WS281X_FAIL"):
            raise RuntimeError("ws2811_init failed with code -5 (mmap() failed)")
        _record(call="begin")

    def setPixelColor(self, n, color):
        self.pixels[n] = color

    def show(self):
        self.shows += 1
        crash_at = os.environ.get("FAKE_WS281X_CRASH_AT")
        if crash_at and self.shows == int(crash_at):
            os._exit(3)
        _record(call="show", pixels=list(self.pixels))

    def numPixels(self):
        return len(self.pixels)
'''

SETTINGS = Ws281xSettings(count=3, pin=18, freq=800000, dma=10, invert=False, brightness=128,
                          channel=0, order="GRB")


@pytest.fixture
def fake_library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    lib = tmp_path / "fakelib"
    lib.mkdir()
    (lib / "rpi_ws281x.py").write_text(FAKE_LIBRARY)
    log = tmp_path / "calls.jsonl"
    monkeypatch.setenv("PYTHONPATH", str(lib))
    monkeypatch.setenv("FAKE_WS281X_LOG", str(log))
    return log


def calls(log: Path) -> list[dict[str, Any]]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines()]


async def wait_for(condition: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.01)


async def test_frames_reach_the_library_in_the_child_and_quit_turns_off(
        fake_library: Path) -> None:
    backend = Ws281xBackend(SETTINGS)
    await backend.start()
    try:
        assert backend.proc is not None
        backend.show([(255, 0, 0, 0), (0, 255, 0, 0), (1, 2, 3, 4)])
        await wait_for(lambda: backend.frames_acked == 1)
    finally:
        await backend.stop()
    records = calls(fake_library)
    assert records[0] == {"call": "init", "num": 3, "pin": 18, "freq": 800000, "dma": 10,
                          "invert": False, "brightness": 128, "channel": 0,
                          "strip_type": 0x081000}
    assert records[1] == {"call": "begin"}
    assert records[2] == {"call": "show", "pixels": [0xFF0000, 0x00FF00, 0x04010203]}
    # on quit the child switches the strip off
    assert records[-1] == {"call": "show", "pixels": [0, 0, 0]}
    assert backend.proc is None


async def test_only_the_newest_frame_is_kept_while_the_child_is_busy(
        fake_library: Path) -> None:
    backend = Ws281xBackend(Ws281xSettings(count=1, order="GRBW"))
    await backend.start()
    try:
        for level in range(200):
            backend.show([(level, 0, 0, 0)])
        await wait_for(lambda: backend._sent == [(199, 0, 0, 0)])
        acked = backend.frames_acked
    finally:
        await backend.stop()
    assert 1 <= acked < 200
    shows = [r["pixels"] for r in calls(fake_library) if r["call"] == "show"]
    assert shows[-2] == [pack([199, 0, 0, 0])]
    assert calls(fake_library)[0]["strip_type"] == 0x18081000


async def test_unchanged_frames_are_not_sent_again(fake_library: Path) -> None:
    backend = Ws281xBackend(SETTINGS)
    await backend.start()
    try:
        frame = [(9, 9, 9, 0)] * 3
        backend.show(frame)
        await wait_for(lambda: backend.frames_acked == 1)
        for _ in range(5):
            backend.show(list(frame))
        backend.show([(0, 0, 1, 0)] * 3)
        await wait_for(lambda: backend.frames_acked == 2)
    finally:
        await backend.stop()


@pytest.mark.parametrize("how", ["absent", "broken"])
async def test_missing_library_is_a_clear_start_up_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    lib = tmp_path / "lib"
    lib.mkdir()
    if how == "broken":
        # what a half-installed library does: the compiled part cannot be imported
        (lib / "rpi_ws281x.py").write_text("import _rpi_ws281x_missing_extension\n")
    else:
        # shadow any installed copy with a module that is not importable at all
        (lib / "rpi_ws281x.py").write_text("raise ImportError('No module named rpi_ws281x')\n")
    monkeypatch.setenv("PYTHONPATH", str(lib))
    backend = Ws281xBackend(SETTINGS)
    with pytest.raises(LedBackendError) as info:
        await backend.start()
    assert str(info.value) == NOT_INSTALLED
    assert "pip install rpi_ws281x" in str(info.value)
    assert backend.proc is None


async def test_library_start_failure_is_reported_with_the_library_message(
        fake_library: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_WS281X_FAIL", "1")
    backend = Ws281xBackend(SETTINGS)
    with pytest.raises(LedBackendError) as info:
        await backend.start()
    assert str(info.value).startswith(
        "rpi_ws281x backend: the strip could not start (ws2811_init failed with code -5")


@pytest.mark.allow_error_logs
async def test_a_child_that_dies_stops_updates_with_one_error(
        fake_library: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("FAKE_WS281X_CRASH_AT", "2")
    backend = Ws281xBackend(SETTINGS)
    await backend.start()
    try:
        backend.show([(1, 1, 1, 0)] * 3)
        await wait_for(lambda: backend.frames_acked == 1)
        backend.show([(2, 2, 2, 0)] * 3)
        await wait_for(lambda: backend.failed is not None)
        backend.show([(3, 3, 3, 0)] * 3)  # ignored, without raising
    finally:
        await backend.stop()
    assert backend.failed == "the LED process exited"
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == [
        "led: the LED process exited; the strip is no longer updated"]


def test_diagnose_spi_and_dev_mem() -> None:
    def nothing(path: str) -> bool:
        return False

    def everything(path: str) -> bool:
        return True

    spi_missing = diagnose(10, euid=1000, exists=nothing, writable=nothing)
    assert spi_missing == ["SPI is not enabled: /dev/spidev0.0 is missing (enable SPI with "
                           "raspi-config, or dtparam=spi=on in /boot/config.txt, and reboot)"]
    spi_denied = diagnose(10, euid=1000, exists=everything, writable=nothing)
    assert spi_denied == ["no permission to use /dev/spidev0.0: add the server's user to the "
                          "'spi' group"]
    assert diagnose(10, euid=1000, exists=everything, writable=everything) == []
    mem = diagnose(18, euid=1000, exists=everything, writable=nothing)
    assert mem == ["GPIO 18 (PWM/PCM) needs /dev/mem, which only root may open: run the "
                   "server as root, or wire the strip to GPIO 10 (SPI)"]
    assert diagnose(18, euid=0, exists=everything, writable=nothing) == []


def test_pack_is_the_library_colour_layout() -> None:
    assert pack([0x12, 0x34, 0x56, 0x78]) == 0x78123456
    assert pack([300, -5, 0, 0]) == 0xFF0000


@pytest.mark.allow_error_logs
async def test_server_reports_a_missing_library_at_start_up(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "rpi_ws281x.py").write_text("raise ImportError('No module named rpi_ws281x')\n")
    monkeypatch.setenv("PYTHONPATH", str(lib))
    config = "[server]\nhost: 127.0.0.1\nport: 0\n\n[led]\nbackend: rpi_ws281x\n"
    async with running_server(tmp_path / "data", config) as srv:
        assert "led" in srv.server.failed_components
        assert f"Component led failed to start: {NOT_INSTALLED}" in srv.server.warnings
        reply = await srv.http.get("/server/info")
        assert "led" in reply.json()["result"]["failed_components"]
