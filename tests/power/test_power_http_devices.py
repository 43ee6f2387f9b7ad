"""tasmota, shelly, homeassistant and generic http power devices against small HTTP
servers that answer as those devices document, through Moonraker's power API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.harness import running_server, wait_for
from tests.power.fake_devices import fake_devices

BASE = """
[server]
host: 127.0.0.1
port: 0
"""


def devices_config(address: str, port: int) -> str:
    return BASE + f"""
[power plug]
type: tasmota
address: {address}
password: pw
output_id: 1

[power relay]
type: shelly
address: {address}
password: secret
output_id: 2
locked_while_printing: True

[power lamp]
type: homeassistant
address: 127.0.0.1
port: {port}
device: switch.lamp
token: ha-token
status_delay: 0.05

[power generic]
type: http
on_url: http://{address}/cm?password=pw&cmnd=Power2%20On
off_url: http://{address}/cm?password=pw&cmnd=Power2%20Off
status_url: http://{address}/cm?password=pw&cmnd=Power2
response_template:
  {{% set resp = http_request.last_response().json() %}}
  {{resp["POWER2"].lower()}}
"""


async def test_each_device_type_switches_and_reports_its_state(tmp_path: Path) -> None:
    async with fake_devices() as fake:
        fake.state.password = "pw"
        fake.state.entities["switch.lamp"] = "off"
        config = devices_config(fake.address, fake.port).replace(
            "password: secret", "password: pw")
        async with running_server(tmp_path, config) as srv:
            ws = await srv.websocket()
            info = await ws.call("server.info")
            assert "power" in info["components"]

            async def listed() -> bool:
                reply = await ws.call("machine.device_power.devices")
                return all(d["status"] == "off" for d in reply["devices"])

            await wait_for(listed, what="every device read as off")
            reply = await ws.call("machine.device_power.devices")
            assert reply["devices"] == [
                {"device": "plug", "status": "off", "locked_while_printing": False,
                 "type": "tasmota"},
                {"device": "relay", "status": "off", "locked_while_printing": True,
                 "type": "shelly"},
                {"device": "lamp", "status": "off", "locked_while_printing": False,
                 "type": "homeassistant"},
                {"device": "generic", "status": "off", "locked_while_printing": False,
                 "type": "http"},
            ]
            for name in ("plug", "relay", "lamp", "generic"):
                result = await ws.call("machine.device_power.post_device",
                                       {"device": name, "action": "on"})
                assert result == {name: "on"}
                note = await ws.wait_notification(
                    "notify_power_changed",
                    lambda n, name=name: n["params"][0]["device"] == name
                    and n["params"][0]["status"] == "on")
                assert set(note["params"][0]) == {"device", "status", "locked_while_printing",
                                                  "type"}
            # the devices really switched, as their own APIs say
            assert fake.state.relays[1] is True      # tasmota Power1
            assert fake.state.relays[2] is True      # shelly relay 2 and generic Power2
            assert fake.state.entities["switch.lamp"] == "on"
            assert any("cmnd=Power1+On" in r and "password=pw" in r
                       for r in fake.state.requests)
            assert "POST /api/services/switch/turn_on" in fake.state.requests
            # toggle, and HTTP with Moonraker's shapes
            reply = await srv.http.post("/machine/device_power/device",
                                        json={"device": "plug", "action": "toggle"})
            assert reply.json() == {"result": {"plug": "off"}}
            reply = await srv.http.get("/machine/device_power/device?device=lamp")
            assert reply.json() == {"result": {"lamp": "on"}}
            # a change made at the device is seen on the next status read
            fake.state.entities["switch.lamp"] = "off"
            reply = await srv.http.get("/machine/device_power/status?lamp&plug&nothing")
            assert reply.json() == {"result": {"lamp": "off", "plug": "off",
                                               "nothing": "device_not_found"}}
            reply = await srv.http.post("/machine/device_power/off?relay&generic")
            assert reply.json() == {"result": {"relay": "off", "generic": "off"}}
            assert fake.state.relays[2] is False
            batch = await ws.call("machine.device_power.on", {"plug": None, "lamp": None})
            assert batch == {"plug": "on", "lamp": "on"}


async def test_wrong_requests_and_unreachable_devices_are_named_errors(tmp_path: Path) -> None:
    async with fake_devices() as fake:
        fake.state.password = "pw"
        fake.state.entities["switch.lamp"] = "off"
        config = devices_config(fake.address, fake.port)  # shelly's password is wrong
        async with running_server(tmp_path, config) as srv:
            power: Any = srv.server.components["power"]
            await wait_for(lambda: all(d.state != "init" for d in power.devices.values()),
                           what="devices initialised")
            reply = await srv.http.get("/machine/device_power/device?device=relay")
            assert reply.status == 200
            assert reply.json() == {"result": {"relay": "error"}}
            reply = await srv.http.post("/machine/device_power/device",
                                        json={"device": "relay", "action": "on"})
            assert reply.status == 502
            assert "HTTP 401" in reply.json()["error"]["message"]
            reply = await srv.http.post("/machine/device_power/device",
                                        json={"device": "nope", "action": "on"})
            assert reply.status == 400
            assert reply.json()["error"]["message"] == "No valid device named nope"
            reply = await srv.http.post("/machine/device_power/device",
                                        json={"device": "plug", "action": "explode"})
            assert reply.status == 400
            reply = await srv.http.post("/machine/device_power/on")
            assert reply.status == 400
            await fake.close()
            reply = await srv.http.post("/machine/device_power/device",
                                        json={"device": "plug", "action": "on"})
            assert reply.status == 502
            assert "127.0.0.1" in reply.json()["error"]["message"]
            devices = (await srv.http.get("/machine/device_power/devices")).json()
            states = {d["device"]: d["status"] for d in devices["result"]["devices"]}
            assert states["plug"] == "error"


async def test_initial_state_and_timer(tmp_path: Path) -> None:
    async with fake_devices() as fake:
        config = BASE + f"""
[power plug]
type: tasmota
address: {fake.address}
initial_state: on

[power bell]
type: shelly
address: {fake.address}
output_id: 2
timer: 0.3
"""
        async with running_server(tmp_path, config) as srv:
            power: Any = srv.server.components["power"]
            # initial_state: switched on at start-up, as the plug's own API shows
            await wait_for(lambda: power.devices["plug"].state == "on", what="plug on")
            assert fake.state.relays[1] is True
            ws = await srv.websocket()
            assert await ws.call("machine.device_power.post_device",
                                 {"device": "bell", "action": "on"}) == {"bell": "on"}
            assert fake.state.relays[2] is True
            # timer: off again by itself
            await ws.wait_notification(
                "notify_power_changed",
                lambda n: n["params"][0] == {"device": "bell", "status": "off",
                                             "locked_while_printing": False,
                                             "type": "shelly"})
            assert fake.state.relays[2] is False
