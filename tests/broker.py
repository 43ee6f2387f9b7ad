"""A real Mosquitto broker for tests (Debian's `mosquitto`), on a free loopback port, and a
real MQTT client (aiomqtt) that collects what it receives."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiomqtt
import msgspec
import pytest

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Mosquitto:
    """`mosquitto -c conf` on 127.0.0.1:port; stop() and start() again on the same port."""

    def __init__(self, workdir: Path) -> None:
        if not Path(MOSQUITTO).exists():
            pytest.skip("mosquitto is not installed (apt-get install mosquitto)")
        self.port = free_port()
        self.workdir = workdir
        self.conf = workdir / "mosquitto.conf"
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            "persistence false\n"
            "log_dest stderr\n"
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 10) -> None:
        log = open(self.workdir / "mosquitto.log", "ab")  # noqa: SIM115 - owned by the process
        self.proc = subprocess.Popen([MOSQUITTO, "-c", str(self.conf)],
                                     stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(
                    ("127.0.0.1", self.port), timeout=0.2):
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        raise RuntimeError("mosquitto did not start:\n" + self.log)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None

    @property
    def log(self) -> str:
        path = self.workdir / "mosquitto.log"
        return path.read_text(errors="replace") if path.exists() else ""


@dataclass
class Received:
    topic: str
    payload: bytes
    retain: bool
    at: float

    def json(self) -> Any:
        return msgspec.json.decode(self.payload)


class Probe:
    """A test's MQTT client: subscribes, records every message, publishes."""

    def __init__(self, client: aiomqtt.Client) -> None:
        self.client = client
        self.messages: list[Received] = []
        self._event = asyncio.Event()
        self._task = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        async for message in self.client.messages:
            payload = message.payload if isinstance(message.payload, bytes) else \
                str(message.payload).encode()
            self.messages.append(Received(str(message.topic), payload, message.retain,
                                          time.monotonic()))
            self._event.set()

    async def subscribe(self, *topics: str) -> None:
        for topic in topics:
            await self.client.subscribe(topic, 1)

    async def publish(self, topic: str, payload: Any, qos: int = 1, retain: bool = False) -> None:
        if not isinstance(payload, (bytes, str)):
            payload = msgspec.json.encode(payload)
        await self.client.publish(topic, payload, qos, retain)

    async def wait(self, topic: str, predicate: Callable[[Received], bool] = lambda _: True,
                   timeout: float = 20, start: int = 0) -> Received:
        deadline = time.monotonic() + timeout
        index = start
        while True:
            while index < len(self.messages):
                message = self.messages[index]
                index += 1
                if aiomqtt.Topic(message.topic).matches(topic) and predicate(message):
                    return message
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                seen = [m.topic for m in self.messages[start:]]
                raise TimeoutError(f"no message on {topic} within {timeout}s; saw {seen}")
            self._event.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(remaining):
                    await self._event.wait()

    def on(self, topic: str) -> list[Received]:
        return [m for m in self.messages if aiomqtt.Topic(m.topic).matches(topic)]

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(BaseException):
            await self._task


@contextlib.asynccontextmanager
async def probe(port: int, *topics: str) -> AsyncIterator[Probe]:
    async with aiomqtt.Client("127.0.0.1", port) as client:
        p = Probe(client)
        try:
            await p.subscribe(*topics)
            yield p
        finally:
            await p.close()


class JsonRpcOverMqtt:
    """Calls a server's API by MQTT alone, as a fleet script would."""

    def __init__(self, p: Probe, instance: str) -> None:
        self.probe = p
        self.instance = instance
        self._next = 0

    async def request(self, method: str, params: Any = None, timeout: float = 20) -> Any:
        self._next += 1
        req_id = self._next
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "id": req_id}
        if params is not None:
            message["params"] = params
        start = len(self.probe.messages)
        await self.probe.publish(f"{self.instance}/moonraker/api/request", message)
        reply = await self.probe.wait(f"{self.instance}/moonraker/api/response",
                                      lambda m: m.json().get("id") == req_id,
                                      timeout=timeout, start=start)
        return reply.json()
