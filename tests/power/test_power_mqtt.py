"""`type: mqtt` power devices against a real Mosquitto broker and a device on it that
behaves as Tasmota does over MQTT (cmnd/<dev>/POWER → stat/<dev>/POWER)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.broker import Mosquitto, Probe, probe
from tests.harness import running_server, wait_for


@contextlib.asynccontextmanager
async def tasmota_over_mqtt(port: int, name: str) -> AsyncIterator[dict[str, object]]:
    """A relay answering `cmnd/<name>/POWER` (ON, OFF, or empty = query) on
    `stat/<name>/POWER`."""
    state: dict[str, object] = {"on": False, "commands": []}
    async with probe(port, f"cmnd/{name}/POWER") as p:

        async def serve(p: Probe) -> None:
            index = 0
            while True:
                message = await p.wait(f"cmnd/{name}/POWER", start=index, timeout=3600)
                index = p.messages.index(message) + 1
                text = message.payload.decode().strip().upper()
                commands = state["commands"]
                assert isinstance(commands, list)
                commands.append(text)
                if text in ("ON", "OFF"):
                    state["on"] = text == "ON"
                await p.publish(f"stat/{name}/POWER", "ON" if state["on"] else "OFF")

        task = asyncio.ensure_future(serve(p))
        try:
            yield state
        finally:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task


def config(port: int, extra: str = "") -> str:
    return f"""
[server]
host: 127.0.0.1
port: 0

[mqtt]
address: 127.0.0.1
port: {port}
instance_name: farm1

[power plug]
type: mqtt
command_topic: cmnd/plug/POWER
command_payload:
  {{% if command == "on" %}}ON{{% else %}}OFF{{% endif %}}
query_topic: cmnd/plug/POWER
state_topic: stat/plug/POWER
state_response_template:
  {{payload}}
state_timeout: 3
{extra}
"""


async def test_an_mqtt_device_switches_and_follows_changes_made_elsewhere(
    tmp_path: Path, broker: Mosquitto
) -> None:
    async with tasmota_over_mqtt(broker.port, "plug") as device, \
            running_server(tmp_path / "srv", config(broker.port)) as srv:
        ws = await srv.websocket()

        async def state() -> str:
            reply = await ws.call("machine.device_power.get_device", {"device": "plug"})
            return str(reply["plug"])

        await wait_for(lambda: _is(state, "off"), what="the query answered off")
        assert await ws.call("machine.device_power.post_device",
                             {"device": "plug", "action": "on"}) == {"plug": "on"}
        assert device["on"] is True
        assert "ON" in device["commands"]  # type: ignore[operator]
        # someone presses the button on the plug: it publishes its new state by itself
        async with probe(broker.port) as button:
            await button.publish("stat/plug/POWER", "OFF")
        note = await ws.wait_notification(
            "notify_power_changed", lambda n: n["params"][0]["status"] == "off")
        assert note["params"][0] == {"device": "plug", "status": "off",
                                     "locked_while_printing": False, "type": "mqtt"}
        devices = await ws.call("machine.device_power.devices")
        assert devices["devices"][0]["status"] == "off"


async def _is(state: object, wanted: str) -> bool:
    assert callable(state)
    return bool(await state() == wanted)


async def test_a_device_that_does_not_answer_is_in_error_within_state_timeout(
    tmp_path: Path, broker: Mosquitto
) -> None:
    text = config(broker.port).replace("state_timeout: 3", "state_timeout: 0.3")
    async with running_server(tmp_path / "srv", text) as srv:
        ws = await srv.websocket()
        await wait_for(lambda: _device_state(srv) == "error", what="error state")
        reply = await ws.request("machine.device_power.post_device",
                                 {"device": "plug", "action": "on"})
        assert reply["error"]["code"] == 502
        assert "no state on stat/plug/POWER within 0.3 s" in reply["error"]["message"]


def _device_state(srv: object) -> str:
    power = srv.server.components["power"]  # type: ignore[attr-defined]
    return str(power.devices["plug"].state)


async def test_an_mqtt_device_needs_the_mqtt_section(tmp_path: Path) -> None:
    from gateway.app import Server, ServerOptions
    from gateway.config import ConfigError
    from tests.harness import write_config

    text = config(1).split("[mqtt]")[0] + "[power plug]\ntype: mqtt\n" \
        "command_topic: a\ncommand_payload: b\nstate_topic: c\n"
    write_config(tmp_path, text)
    with pytest.raises(ConfigError, match=r"\[power plug\].*need the \[mqtt\] section"):
        Server(ServerOptions(data_dir=tmp_path))
