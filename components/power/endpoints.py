"""machine.device_power.*: Moonraker's power API.

The batch methods (status, on, off) take device names as argument *names* (values null;
over HTTP `?printer&lights`), as Moonraker defines them; an unknown name answers
"device_not_found" for that name, a device that fails answers "error".
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated

from msgspec import Meta

from components.power.device import DeviceError, PowerDevice
from gateway.errors import BadRequest, ServerError
from gateway.params import Params
from gateway.request import Request

if TYPE_CHECKING:
    from components.power.component import PowerComponent
    from gateway.api import ServerApi

# arguments a door adds that are not device names
_NOT_DEVICES = frozenset({"connection_id", "token", "access_token", "api_key", "_"})


class DeviceArgs(Params):
    device: Annotated[str, Meta(min_length=1)]


class DeviceActionArgs(Params):
    device: Annotated[str, Meta(min_length=1)]
    action: Annotated[str, Meta(min_length=1)]


def register(server: ServerApi, power: PowerComponent) -> None:
    def lookup(name: str) -> PowerDevice:
        device = power.devices.get(name)
        if device is None:
            raise BadRequest(f"No valid device named {name}")
        return device

    async def run(device: PowerDevice, action: str) -> str:
        try:
            state: str = await device.process(action)
        except DeviceError as exc:
            raise ServerError(str(exc), 502) from None
        return state

    def devices(request: Request) -> dict[str, object]:
        return {"devices": [d.info() for d in power.devices.values()]}

    async def get_device(args: DeviceArgs, request: Request) -> dict[str, str]:
        return {args.device: await run(lookup(args.device), "status")}

    async def post_device(args: DeviceActionArgs, request: Request) -> dict[str, str]:
        action = args.action.lower()
        if action not in ("on", "off", "toggle"):
            raise BadRequest(f"Invalid requested action '{args.action}'")
        return {args.device: await run(lookup(args.device), action)}

    def batch(action: str) -> Callable[[Request], Awaitable[dict[str, str]]]:
        async def handler(request: Request) -> dict[str, str]:
            names = [n for n in request.args if n not in _NOT_DEVICES]
            if not names:
                raise BadRequest("No arguments provided: name the devices")
            result: dict[str, str] = {}
            for name in names:
                device = power.devices.get(name)
                if device is None:
                    result[name] = "device_not_found"
                    continue
                try:
                    result[name] = await device.process(action)
                except DeviceError:
                    result[name] = "error"
            return result

        return handler

    reg = server.register_endpoint
    reg("machine.device_power.devices", devices, http="GET /machine/device_power/devices")
    reg("machine.device_power.get_device", get_device, params=DeviceArgs,
        http="GET /machine/device_power/device")
    reg("machine.device_power.post_device", post_device, params=DeviceActionArgs,
        http="POST /machine/device_power/device")
    reg("machine.device_power.status", batch("status"), http="GET /machine/device_power/status")
    reg("machine.device_power.on", batch("on"), http="POST /machine/device_power/on")
    reg("machine.device_power.off", batch("off"), http="POST /machine/device_power/off")
