"""The LED component's doors: the OctoPrint WS281x LED Status plugin's SimpleAPI at
/api/plugin/ws281x_led_status, and JSON-RPC methods under `led.*`.

The plugin's route answers bare JSON ({"lights_on": .., "torch_on": ..}), not Moonraker's
{"result": ..} envelope, so it is served by a BaseHandler route (the house's way for the
OctoPrint API), whose `prepare` applies the same access check as every registry route.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec

from components.led.colors import apply_brightness
from gateway.errors import BadRequest, ServerError
from gateway.request import Request
from gateway.transports.http import JSON_TYPE, BaseHandler

if TYPE_CHECKING:
    from components.led.component import LedComponent
    from gateway.api import ServerApi
    from gateway.transports.host import TransportHost

SEED_PATH = "/api/plugin/ws281x_led_status"


class SeedApiHandler(BaseHandler):
    """GET: the plugin's state. POST {"command": .., ...}: run a command, answer the state."""

    led: LedComponent

    def initialize(self, server: TransportHost, led: LedComponent) -> None:  # type: ignore[override]
        super().initialize(server)
        self.led = led

    def _reply(self, data: Any) -> None:
        self.set_header("Content-Type", JSON_TYPE)
        self.set_header("Cache-Control", "no-store")
        self.finish(msgspec.json.encode(data))

    def get(self) -> None:
        self._reply(self.led.seed_state())

    async def post(self) -> None:
        try:
            args = self._json_body()
            result = await self.led.command(args)
        except ServerError as exc:
            self.send_error_json(exc.status, exc.message)
            return
        self._reply(result)

    def _json_body(self) -> dict[str, Any]:
        content_type = self.request.headers.get("Content-Type", "application/json")
        if not content_type.startswith("application/json"):
            raise BadRequest("Expected content-type JSON")
        try:
            body = msgspec.json.decode(self.request.body or b"{}")
        except (msgspec.DecodeError, UnicodeDecodeError):
            raise BadRequest("Malformed JSON body") from None
        if not isinstance(body, dict):
            raise BadRequest("Expected a JSON object with a command")
        return body


def register_api(server: ServerApi, led: LedComponent) -> None:
    def get_state(request: Request) -> dict[str, Any]:
        return led.state()

    async def command(request: Request) -> dict[str, Any]:
        await led.command(request.args)
        return led.state()

    def get_frame(request: Request) -> dict[str, Any]:
        return {
            "state": led.scene.layer.value,
            "backend": led.backend.name,
            "brightness": led.config.brightness,
            "frame": [list(p) for p in led.frame],
            "output": [list(p) for p in apply_brightness(led.frame, led.config.brightness)],
        }

    server.register_endpoint("led.state", get_state, http="GET /server/led/state")
    server.register_endpoint("led.command", command, http="POST /server/led/command")
    server.register_endpoint("led.frame", get_frame, http="GET /server/led/frame")
    server.add_http_route(SEED_PATH, SeedApiHandler, {"led": led})
