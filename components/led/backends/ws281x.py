"""A WS281x strip on the Raspberry Pi's GPIO, through the rpi_ws281x library running in a
child process (components/led/ws281x_child.py, JSON lines on stdin/stdout).

Only the newest frame is kept: the next one is written once the child acknowledged the
last, so a slow strip never builds a backlog and never blocks the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from components.led.backends import LedBackendError
from components.led.colors import Frame, clamp8
from components.led.config import LedSection

log = logging.getLogger(__name__)

CHILD_SCRIPT = Path(__file__).resolve().parent.parent / "ws281x_child.py"


@dataclass(frozen=True, slots=True)
class Ws281xSettings:
    count: int
    pin: int = 18
    freq: int = 800000
    dma: int = 10
    invert: bool = False
    brightness: int = 128  # 0..255, applied by the library
    channel: int = 0
    order: str = "GRB"

    @classmethod
    def from_config(cls, config: LedSection) -> Ws281xSettings:
        return cls(count=config.led_count, pin=config.gpio_pin, freq=config.frequency,
                   dma=config.dma, invert=config.invert,
                   brightness=clamp8(config.brightness * 255), channel=config.pwm_channel,
                   order=config.color_order)

    def init_message(self) -> dict[str, object]:
        return {"op": "init", **asdict(self)}


class Ws281xBackend:
    name = "rpi_ws281x"

    def __init__(self, settings: Ws281xSettings, *, start_timeout: float = 20.0,
                 ack_timeout: float = 5.0) -> None:
        self.settings = settings
        self.start_timeout = start_timeout
        self.ack_timeout = ack_timeout
        self.proc: asyncio.subprocess.Process | None = None
        self._latest: Frame | None = None
        self._sent: Frame | None = None
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._seq = 0
        self.frames_acked = 0
        self.failed: str | None = None

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-u", str(CHILD_SCRIPT),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        self._tasks.append(asyncio.create_task(self._log_stderr(), name="led-ws281x-stderr"))
        try:
            await self._write(self.settings.init_message())
            reply = await self._read(self.start_timeout)
        except (TimeoutError, OSError, ValueError) as exc:
            await self.stop()
            raise LedBackendError(f"rpi_ws281x backend: the LED process did not start ({exc})"
                                  ) from None
        if reply is None or "error" in reply or not reply.get("ready"):
            message = (reply or {}).get("error") or "the LED process exited during start-up"
            await self.stop()
            raise LedBackendError(str(message))
        self._tasks.append(asyncio.create_task(self._feed(), name="led-ws281x"))

    def show(self, frame: Frame) -> None:
        self._latest = frame
        if frame != self._sent:
            self._wake.set()

    async def _write(self, message: dict[str, object]) -> None:
        if self.proc is None or self.proc.stdin is None:
            raise OSError("the LED process is not running")
        self.proc.stdin.write(json.dumps(message, separators=(",", ":")).encode() + b"\n")
        await self.proc.stdin.drain()

    async def _read(self, timeout: float) -> dict[str, object] | None:
        if self.proc is None or self.proc.stdout is None:
            return None
        async with asyncio.timeout(timeout):  # not wait_for: it may swallow a cancel (3.11)
            line = await self.proc.stdout.readline()
        if not line:
            return None
        decoded = json.loads(line)
        return decoded if isinstance(decoded, dict) else None

    async def _feed(self) -> None:
        while self.failed is None:
            await self._wake.wait()
            self._wake.clear()
            frame = self._latest
            if frame is None or frame == self._sent:
                continue
            self._seq += 1
            try:
                await self._write({"op": "show", "seq": self._seq,
                                   "pixels": [list(p) for p in frame]})
                reply = await self._read(self.ack_timeout)
            except (TimeoutError, OSError, ValueError) as exc:
                reply = {"error": f"no answer from the LED process ({exc!r})"}
            if reply is None:
                reply = {"error": "the LED process exited"}
            if "error" in reply:
                self.failed = str(reply["error"])
                log.error("led: %s; the strip is no longer updated", self.failed)
                return
            self._sent = frame
            self.frames_acked += 1

    async def _log_stderr(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        async for line in self.proc.stderr:
            log.warning("led process: %s", line.decode(errors="replace").rstrip())

    async def stop(self) -> None:
        """Ask the child to switch the strip off and quit; kill it if it does not."""
        proc, tasks = self.proc, self._tasks
        self.proc, self._tasks = None, []
        for task in tasks:
            if task.get_name() == "led-ws281x":
                task.cancel()
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(OSError, RuntimeError):
                assert proc.stdin is not None
                proc.stdin.write(b'{"op":"quit"}\n')
                await proc.stdin.drain()
                proc.stdin.close()
            try:
                async with asyncio.timeout(5):
                    await proc.wait()
            except TimeoutError:
                proc.kill()
                await proc.wait()
        # the stderr reader ends with the process
        await asyncio.gather(*tasks, return_exceptions=True)
