"""The LED component's doors, all rows of the method table: the OctoPrint WS281x LED
Status plugin's SimpleAPI at /api/plugin/ws281x_led_status (GET: the plugin's state;
POST {"command": .., ...}: run a command, answer the state - bare JSON, OctoPrint's
errors), and JSON-RPC methods under `led.*`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from components.led.colors import apply_brightness
from gateway.registry import Answer, Params
from gateway.request import Request

if TYPE_CHECKING:
    from components.led.component import LedComponent
    from gateway.api import ServerApi

SEED_PATH = "/api/plugin/ws281x_led_status"


class _Command(Params, tag_field="command"):
    pass


class LightsOn(_Command, tag="lights_on"):
    pass


class LightsOff(_Command, tag="lights_off"):
    pass


class TorchOn(_Command, tag="torch_on"):
    pass


class TorchOff(_Command, tag="torch_off"):
    pass


class TestLed(_Command, tag="test_led"):
    # a 7 character HTML colour such as #ff00ff (the component checks its form)
    color: str


class TestOsConfig(_Command, tag="test_os_config"):
    pass


LedCommand = LightsOn | LightsOff | TorchOn | TorchOff | TestLed | TestOsConfig


def register_api(server: ServerApi, led: LedComponent) -> None:
    def get_state(request: Request) -> dict[str, object]:
        return led.state()

    async def command(args: LedCommand, request: Request) -> dict[str, object]:
        await led.command(msgspec.to_builtins(args))
        return led.state()

    def seed_state(request: Request) -> dict[str, bool]:
        return led.seed_state()

    async def seed_command(args: LedCommand, request: Request) -> dict[str, bool]:
        return await led.command(msgspec.to_builtins(args))

    def get_frame(request: Request) -> dict[str, object]:
        return {
            "state": led.scene.layer.value,
            "backend": led.backend.name,
            "brightness": led.config.brightness,
            "frame": [list(p) for p in led.frame],
            "output": [list(p) for p in apply_brightness(led.frame, led.config.brightness)],
        }

    server.register_endpoint("led.state", get_state, http="GET /server/led/state")
    server.register_endpoint("led.command", command, params=LedCommand,
                             http="POST /server/led/command")
    server.register_endpoint("led.frame", get_frame, http="GET /server/led/frame")
    server.register_endpoint("led.seed.get", seed_state, http=f"GET {SEED_PATH}",
                             answer=Answer.OCTOPRINT, websocket=False)
    server.register_endpoint("led.seed.post", seed_command, params=LedCommand,
                             http=f"POST {SEED_PATH}", answer=Answer.OCTOPRINT,
                             websocket=False)
