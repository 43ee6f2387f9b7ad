"""Small HTTP servers that answer as the devices document their APIs: Tasmota
(`/cm?cmnd=Power1 On`), Shelly Gen 1 (`/relay/0?turn=on`, basic auth) and Home Assistant
(`/api/services/switch/turn_on`, `/api/states/<entity>`, bearer token). Each records the
requests it got and holds its relays' states."""

from __future__ import annotations

import base64
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import msgspec
import tornado.httpserver
import tornado.netutil
import tornado.web


@dataclass
class DeviceState:
    relays: dict[int, bool] = field(default_factory=lambda: {0: False, 1: False, 2: False})
    entities: dict[str, str] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    password: str = ""
    token: str = "ha-token"


class _Base(tornado.web.RequestHandler):
    state: DeviceState

    def initialize(self, state: DeviceState) -> None:  # type: ignore[override]
        self.state = state
        state.requests.append(f"{self.request.method} {self.request.uri}")

    def reply(self, body: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(msgspec.json.encode(body))


class TasmotaHandler(_Base):
    """GET /cm?user=admin&password=..&cmnd=Power1 On → {"POWER1": "ON"}"""

    def get(self) -> None:
        if self.state.password and self.get_argument("password", "") != self.state.password:
            self.reply({"WARNING": "Need user=<username>&password=<password>"})
            return
        command = self.get_argument("cmnd", "")
        word, _, arg = command.partition(" ")
        if not word.lower().startswith("power"):
            self.reply({"Command": "Unknown"})
            return
        index = int(word[5:] or 1)
        if arg:
            self.state.relays[index] = {"on": True, "off": False,
                                        "toggle": not self.state.relays[index]}[arg.lower()]
        self.reply({f"POWER{index}": "ON" if self.state.relays[index] else "OFF"})


class ShellyHandler(_Base):
    """GET /relay/0?turn=on → {"ison": true, ...}; basic auth when a password is set."""

    def get(self, index: str) -> None:
        if self.state.password:
            expected = base64.b64encode(f"admin:{self.state.password}".encode()).decode()
            if self.request.headers.get("Authorization") != f"Basic {expected}":
                self.set_status(401)
                self.finish("401 Unauthorized")
                return
        relay = int(index)
        turn = self.get_argument("turn", None)
        if turn is not None:
            self.state.relays[relay] = {"on": True, "off": False,
                                        "toggle": not self.state.relays[relay]}[turn]
        self.reply({"ison": self.state.relays[relay], "has_timer": False, "timer_started": 0,
                    "timer_duration": 0, "timer_remaining": 0, "overpower": False,
                    "source": "http"})


class HaBase(_Base):
    def prepare(self) -> None:
        if self.request.headers.get("Authorization") != f"Bearer {self.state.token}":
            self.reply({"message": "Unauthorized"}, 401)


class HaServiceHandler(HaBase):
    """POST /api/services/switch/turn_on {"entity_id": ...} → [changed states]"""

    def post(self, domain: str, service: str) -> None:
        entity = msgspec.json.decode(self.request.body)["entity_id"]
        self.state.entities[entity] = "on" if service == "turn_on" else "off"
        self.reply([{"entity_id": entity, "state": self.state.entities[entity]}])


class HaStateHandler(HaBase):
    """GET /api/states/switch.x → {"entity_id", "state", "attributes", ...}"""

    def get(self, entity: str) -> None:
        if entity not in self.state.entities:
            self.reply({"message": "Entity not found."}, 404)
            return
        self.reply({"entity_id": entity, "state": self.state.entities[entity],
                    "attributes": {"friendly_name": entity},
                    "last_changed": "2026-01-01T00:00:00+00:00"})


class FakeDevices:
    def __init__(self) -> None:
        self.state = DeviceState()
        kwargs = {"state": self.state}
        self.app = tornado.web.Application([
            (r"/cm", TasmotaHandler, kwargs),
            (r"/relay/(\d+)", ShellyHandler, kwargs),
            (r"/api/services/(\w+)/(\w+)", HaServiceHandler, kwargs),
            (r"/api/states/(.+)", HaStateHandler, kwargs),
        ])
        self.server = tornado.httpserver.HTTPServer(self.app)
        sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
        self.port = sockets[0].getsockname()[1]
        self.server.add_sockets(sockets)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def close(self) -> None:
        self.server.stop()
        await self.server.close_all_connections()


@contextlib.asynccontextmanager
async def fake_devices() -> AsyncIterator[FakeDevices]:
    devices = FakeDevices()
    try:
        yield devices
    finally:
        await devices.close()
