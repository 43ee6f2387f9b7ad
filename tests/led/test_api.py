"""The OctoPrint WS281x LED Status API (as its documentation has it) and the led.* methods,
against the real server with `[led] backend: virtual`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from components.access import AccessComponent
from components.led.backends.virtual import VirtualBackend
from components.led.component import LedComponent
from components.printer.api import PrinterApi
from tests.harness import RpcError, RunningServer, running_server

PATH = "/api/plugin/ws281x_led_status"
CONFIG = """
[server]
host: 127.0.0.1
port: 0

[led]
backend: virtual
led_count: 4
brightness: 0.5
"""


def led_of(srv: RunningServer) -> LedComponent:
    led = srv.server.components["led"]
    assert isinstance(led, LedComponent)
    return led


@pytest.fixture
async def srv(tmp_path: Path) -> AsyncIterator[RunningServer]:
    async with running_server(tmp_path, CONFIG) as running:
        yield running


async def post(srv: RunningServer, body: Any) -> tuple[int, Any]:
    reply = await srv.http.post(PATH, json=body)
    return reply.status, reply.json()


async def test_get_answers_the_plugin_state_as_bare_json(srv: RunningServer) -> None:
    reply = await srv.http.get(PATH)
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("application/json")
    assert reply.json() == {"lights_on": True, "torch_on": False}


async def test_commands_answer_the_state(srv: RunningServer) -> None:
    assert await post(srv, {"command": "lights_off"}) == (
        200, {"lights_on": False, "torch_on": False})
    assert (await srv.http.get(PATH)).json() == {"lights_on": False, "torch_on": False}
    assert await post(srv, {"command": "torch_on"}) == (200, {"lights_on": False,
                                                              "torch_on": True})
    assert await post(srv, {"command": "lights_on"}) == (200, {"lights_on": True,
                                                               "torch_on": True})
    assert await post(srv, {"command": "torch_off"}) == (200, {"lights_on": True,
                                                               "torch_on": False})


async def test_lights_off_and_torch_reach_the_strip(srv: RunningServer) -> None:
    backend = led_of(srv).backend
    assert isinstance(backend, VirtualBackend)
    await post(srv, {"command": "torch_on"})
    assert backend.frame == [(255, 255, 255, 255)] * 4
    assert backend.output == [(128, 128, 128, 128)] * 4
    await post(srv, {"command": "lights_off"})
    assert backend.frame == [(0, 0, 0, 0)] * 4


async def test_test_led_shows_the_colour(srv: RunningServer) -> None:
    assert await post(srv, {"command": "test_led", "color": "#ff00ff"}) == (
        200, {"lights_on": True, "torch_on": False})
    reply = await srv.http.get("/server/led/frame")
    frame = reply.json()["result"]
    assert frame["state"] == "manual"
    assert frame["frame"] == [[255, 0, 255, 0]] * 4
    assert frame["output"] == [[128, 0, 128, 0]] * 4


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"command": "dance"}, "Invalid argument [command]: invalid value 'dance'"),
        ({"command": "lights_toggle"}, "invalid value 'lights_toggle'"),
        ({"command": 5}, "Invalid argument [command]: expected `str`, got `int`"),
        ({}, "No data for argument: command"),
        ({"command": "test_led"}, "No data for argument: color"),
        ({"command": "test_led", "color": "#ff00f"}, "Malformed color '#ff00f'"),
        ({"command": "test_led", "color": "ff00ff"}, "Malformed color 'ff00ff'"),
        ({"command": "test_led", "color": "#gg0000"}, "Malformed color '#gg0000'"),
        ({"command": "test_led", "color": "#ff00ff00"}, "Malformed color"),
        ({"command": "test_led", "color": 16711935},
         "Invalid argument [color]: expected `str`, got `int`"),
    ],
)
async def test_bad_commands_are_400_with_a_message(srv: RunningServer, body: dict[str, Any],
                                                   message: str) -> None:
    status, answer = await post(srv, body)
    assert status == 400
    # OctoPrint's error shape
    assert message in answer["error"]
    # nothing changed
    assert (await srv.http.get(PATH)).json() == {"lights_on": True, "torch_on": False}


async def test_malformed_bodies_are_400(srv: RunningServer) -> None:
    reply = await srv.http.post(PATH, body="{not json", headers={
        "Content-Type": "application/json"})
    assert reply.status == 400
    assert reply.json()["error"] == "Error parsing JSON body: invalid JSON"
    reply = await srv.http.post(PATH, body="command=lights_on", headers={
        "Content-Type": "application/x-www-form-urlencoded"})
    assert reply.status == 415
    assert "expected application/json" in reply.json()["error"]
    reply = await srv.http.post(PATH, json=["lights_on"])
    assert reply.status == 400


async def test_torch_off_only_in_toggle_mode(tmp_path: Path) -> None:
    config = CONFIG + "torch_mode: timed\ntorch_time: 30\n"
    async with running_server(tmp_path, config) as srv:
        assert await post(srv, {"command": "torch_on"}) == (200, {"lights_on": True,
                                                                  "torch_on": True})
        status, answer = await post(srv, {"command": "torch_off"})
        assert status == 400
        assert answer["error"] == (
            "torch_off is only available when torch_mode is toggle (it is timed)")
        assert (await srv.http.get(PATH)).json()["torch_on"] is True


async def test_test_os_config_answers_at_once_and_reports_on_the_socket(
        srv: RunningServer) -> None:
    ws = await srv.websocket()
    await ws.call("server.connection.identify", {
        "client_name": "test", "version": "1", "type": "web", "url": "http://x"})
    assert await post(srv, {"command": "test_os_config"}) == (
        200, {"lights_on": True, "torch_on": False})
    done = await ws.wait_notification("notify_led_os_config_test",
                                      lambda n: n["params"][0]["test"] == "complete")
    assert done["params"] == [{"test": "complete", "status": "complete"}]
    results = [n["params"][0] for n in ws.notifications
               if n["method"] == "notify_led_os_config_test"]
    assert {"test": "library", "status": "in_progress"} in results
    # the library is not installed here
    assert {"test": "library", "status": "failed"} in results
    assert {r["test"] for r in results} >= {"library", "device_access", "complete"}


async def test_json_rpc_methods_and_update_notification(srv: RunningServer) -> None:
    ws = await srv.websocket()
    state = await ws.call("led.state")
    assert state["lights_on"] is True
    assert state["torch_on"] is False
    assert state["backend"] == "virtual"
    assert state["led_count"] == 4
    assert state["name"] == "status"
    start = len(ws.notifications)
    after = await ws.call("led.command", {"command": "lights_off"})
    assert after["lights_on"] is False
    assert after["state"] == "lights_off"
    note = await ws.wait_notification("notify_led_update", start=start)
    assert note["params"][0]["lights_on"] is False
    assert note["params"][0]["state"] == "lights_off"
    frame = await ws.call("led.frame")
    assert frame["frame"] == [[0, 0, 0, 0]] * 4
    with pytest.raises(RpcError) as info:
        await ws.call("led.command", {"command": "test_led", "color": "purple"})
    assert info.value.code == 400
    assert "Malformed color" in info.value.message


async def test_without_a_printer_component_the_strip_shows_disconnected(
        srv: RunningServer) -> None:
    printer = srv.server.lookup(PrinterApi)
    srv.server.withdraw(PrinterApi)
    try:
        led_of(srv).refresh()
        state = (await srv.http.get("/server/led/state")).json()["result"]
        assert state["printer_state"] == "disconnected"
        assert state["state"] == "disconnected"
        assert (await post(srv, {"command": "torch_on"}))[0] == 200
    finally:
        srv.server.provide(PrinterApi, printer)


UNTRUSTED = """
[server]
host: 127.0.0.1
port: 0

[authorization]
trusted_clients:
  10.99.0.0/16

[led]
backend: virtual
"""


async def test_authentication_applies_as_to_every_other_route(tmp_path: Path) -> None:
    async with running_server(tmp_path, UNTRUSTED) as srv:
        access = srv.server.components["access"]
        assert isinstance(access, AccessComponent)
        for verb, path in (("GET", PATH), ("POST", PATH), ("GET", "/server/led/state"),
                           ("POST", "/server/led/command"), ("GET", "/server/led/frame")):
            reply = await srv.http.request(verb, path, json={"command": "lights_off"}
                                           if verb == "POST" else None)
            # the plugin's route refuses as OctoPrint does: 403
            assert reply.status == (403 if path == PATH else 401), (verb, path, reply.body)
        key = {"X-Api-Key": access.control.api_key}
        reply = await srv.http.get(PATH, headers=key)
        assert reply.json() == {"lights_on": True, "torch_on": False}
        reply = await srv.http.post(PATH, json={"command": "lights_off"}, headers=key)
        assert reply.json() == {"lights_on": False, "torch_on": False}
