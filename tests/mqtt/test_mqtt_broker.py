"""[mqtt] against a real Mosquitto broker: the API over MQTT, the state topic and its last
will, status publishing (whole, split, status_interval), notifications, reconnects."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from components.mqtt.component import MqttComponent
from tests.broker import JsonRpcOverMqtt, Mosquitto, Received, probe
from tests.harness import ServerProcess, running_server, wait_for
from tests.printer.conftest import FAST_PRINTER, printer_of


def mqtt_config(port: int, extra: str = "", instance: str = "alpha") -> str:
    return FAST_PRINTER + f"""
[mqtt]
address: 127.0.0.1
port: {port}
instance_name: {instance}
{extra}
"""


def mqtt_of(srv: object) -> MqttComponent:
    component = srv.server.components["mqtt"]  # type: ignore[attr-defined]
    assert isinstance(component, MqttComponent)
    return component


async def test_api_requests_over_mqtt_are_answered_on_the_response_topic(
    tmp_path: Path, broker: Mosquitto
) -> None:
    async with probe(broker.port, "alpha/moonraker/#") as p, \
            running_server(tmp_path / "srv", mqtt_config(broker.port)) as srv:
        await p.wait("alpha/moonraker/status", lambda m: m.json() == {"server": "online"})
        rpc = JsonRpcOverMqtt(p, "alpha")
        info = await rpc.request("server.info")
        assert "mqtt" in info["result"]["components"]
        assert (await rpc.request("no.such.method"))["error"]["code"] == -32601
        bad = await rpc.request("server.files.metadata", {})
        assert bad["error"]["code"] == -32602  # a missing argument (issue 18)
        # the broker-facing endpoints are not offered over MQTT itself
        refused = await rpc.request("server.mqtt.publish", {"topic": "x"})
        assert refused["error"]["code"] == -32601
        # a repeated mqtt_timestamp (QoS 1 may deliver twice) is refused the second time
        first = await rpc.request("server.info", {"mqtt_timestamp": 1700000000000001})
        assert "result" in first
        again = await rpc.request("server.info", {"mqtt_timestamp": 1700000000000001})
        assert again["error"] == {"code": -10000, "message": "Duplicate MQTT Request"}
        # malformed JSON gets a parse error, with a null id
        start = len(p.messages)
        await p.publish("alpha/moonraker/api/request", b"{not json")
        reply = await p.wait("alpha/moonraker/api/response", start=start)
        assert reply.json()["error"]["code"] == -32700
        await wait_for(lambda: printer_of(srv).state == "ready", what="printer ready")
        # a printer command by MQTT alone; its console reply arrives as a notification
        start = len(p.messages)
        result = await rpc.request("printer.gcode.script", {"script": "M118 hello fleet"})
        assert result["result"] == "ok"
        note = await p.wait("alpha/moonraker/api/notification",
                            lambda m: m.json().get("params") == ["hello fleet"], start=start)
        assert note.json()["method"] == "notify_gcode_response"


async def test_status_objects_are_published_no_more_often_than_status_interval(
    tmp_path: Path, broker: Mosquitto
) -> None:
    extra = "status_objects:\n  webhooks\n  extruder=temperature,target\nstatus_interval: 0.5"
    async with probe(broker.port, "alpha/klipper/#") as p, \
            running_server(tmp_path / "srv", mqtt_config(broker.port, extra)) as srv:
        first = await p.wait("alpha/klipper/status")
        status = first.json()["status"]
        assert status["webhooks"]["state"] == "ready"
        assert set(status["extruder"]) == {"temperature", "target"}
        ws = await srv.websocket()
        await ws.call("printer.objects.subscribe", {"objects": {"extruder": ["temperature"]}})
        begin = len(p.messages)
        await ws.call("printer.gcode.script", {"script": "M104 S250"})

        def hot(m: Received) -> bool:
            return m.json()["status"].get("extruder", {}).get("temperature", 0) >= 249.9

        await p.wait("alpha/klipper/status", hot, start=begin)
        # heating changes the temperature on every report: the websocket saw each change,
        # MQTT got them merged, at most one publish per 0.5 s
        changes = [n for n in ws.notifications if n["method"] == "notify_status_update"]
        published = p.on("alpha/klipper/status")[1:]
        assert len(changes) >= 10
        assert len(published) < len(changes) / 2
        gaps = [b.at - a.at for a, b in itertools.pairwise(published)]
        assert gaps and min(gaps) >= 0.4, gaps
        eventtimes = [m.json()["eventtime"] for m in published]
        assert eventtimes == sorted(eventtimes)
        for message in published:
            assert set(message.json()["status"]) <= {"webhooks", "extruder"}
            assert set(message.json()["status"].get("extruder", {})) <= {"temperature",
                                                                         "target"}
        assert published[0].json()["status"]["extruder"]["target"] == 250.0
        await ws.call("printer.gcode.script", {"script": "M104 S0"})


async def test_split_status_goes_to_one_retained_topic_per_field(
    tmp_path: Path, broker: Mosquitto
) -> None:
    extra = "status_objects: heater_bed=target\npublish_split_status: True"
    async with running_server(tmp_path / "srv", mqtt_config(broker.port, extra)) as srv:
        ws = await srv.websocket()
        await wait_for(lambda: printer_of(srv).state == "ready", what="printer ready")
        async with probe(broker.port, "alpha/klipper/state/#") as live:
            await ws.call("printer.gcode.script", {"script": "M140 S45"})
            await live.wait("alpha/klipper/state/heater_bed/target",
                            lambda m: m.json()["value"] == 45.0)
        # a subscriber arriving later gets the retained value at once
        async with probe(broker.port, "alpha/klipper/state/#") as p:
            message = await p.wait("alpha/klipper/state/heater_bed/target")
            assert message.retain and message.json()["value"] == 45.0
            assert set(message.json()) == {"eventtime", "value"}
            assert not p.on("alpha/klipper/status")
        await ws.call("printer.gcode.script", {"script": "M140 S0"})


async def test_state_topic_says_offline_by_last_will_when_the_server_is_killed(
    tmp_path: Path, broker: Mosquitto
) -> None:
    config = f"""
[server]
host: 127.0.0.1
port: 0

[mqtt]
address: 127.0.0.1
port: {broker.port}
instance_name: doomed
"""
    proc = ServerProcess(tmp_path / "srv", config)
    async with probe(broker.port, "doomed/moonraker/status") as p:
        proc.start()
        try:
            online = await p.wait("doomed/moonraker/status",
                                  lambda m: m.json() == {"server": "online"})
            proc.kill()
            offline = await p.wait("doomed/moonraker/status",
                                   lambda m: m.json() == {"server": "offline"},
                                   start=p.messages.index(online) + 1)
            # the broker, not the dead server, said it
            assert offline.at - online.at < 30
        finally:
            proc.kill()
    # and it stays said: a newcomer gets the retained offline state
    async with probe(broker.port, "doomed/moonraker/status") as late:
        retained = await late.wait("doomed/moonraker/status")
        assert retained.retain and retained.json() == {"server": "offline"}


async def test_a_clean_stop_publishes_offline_itself(
    tmp_path: Path, broker: Mosquitto
) -> None:
    async with probe(broker.port, "alpha/moonraker/status") as p:
        async with running_server(tmp_path / "srv", mqtt_config(broker.port)):
            await p.wait("alpha/moonraker/status", lambda m: m.json() == {"server": "online"})
        await p.wait("alpha/moonraker/status", lambda m: m.json() == {"server": "offline"})


async def test_reconnects_after_the_broker_restarts(
    tmp_path: Path, broker: Mosquitto, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_server(tmp_path / "srv", mqtt_config(broker.port)) as srv:
        mqtt = mqtt_of(srv)
        await wait_for(lambda: mqtt.is_connected, what="connected")
        connects = mqtt.client.connects
        broker.stop()
        await wait_for(lambda: not mqtt.is_connected, what="disconnected")
        # meanwhile the server works, and says so once as a warning
        ws = await srv.websocket()
        assert "mqtt" in (await ws.call("server.info"))["components"]
        assert any("MQTT: broker" in r.getMessage() and r.levelname == "WARNING"
                   for r in caplog.records)
        broker.start()
        await wait_for(lambda: mqtt.is_connected, timeout=30, what="reconnected")
        assert mqtt.client.connects == connects + 1
        async with probe(broker.port, "alpha/moonraker/#") as p:
            await p.wait("alpha/moonraker/status", lambda m: m.json() == {"server": "online"})
            reply = await JsonRpcOverMqtt(p, "alpha").request("server.info")
            assert "result" in reply


async def test_a_broker_that_is_down_at_start_is_a_warning_not_a_failure(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broker = Mosquitto(tmp_path)
    async with running_server(tmp_path / "srv", mqtt_config(broker.port)) as srv:
        mqtt = mqtt_of(srv)
        await wait_for(lambda: any("unreachable" in r.getMessage() for r in caplog.records),
                       what="a warning")
        assert (await srv.http.get("/server/info")).status == 200
        broker.start()
        try:
            await wait_for(lambda: mqtt.is_connected, timeout=30, what="connected")
        finally:
            broker.stop()


async def test_publish_and_subscribe_endpoints_use_the_broker(
    tmp_path: Path, broker: Mosquitto
) -> None:
    async with probe(broker.port, "home/test/#") as p, \
            running_server(tmp_path / "srv", mqtt_config(broker.port)) as srv:
        await wait_for(lambda: mqtt_of(srv).is_connected, what="connected")
        reply = await srv.http.post("/server/mqtt/publish", json={
            "topic": "home/test/pub", "payload": {"a": 1}, "qos": 1, "timeout": 5})
        assert reply.json() == {"result": {"topic": "home/test/pub"}}
        assert (await p.wait("home/test/pub")).json() == {"a": 1}
        await p.publish("home/test/sub", {"value": 3}, retain=True)
        reply = await srv.http.post("/server/mqtt/subscribe",
                                    json={"topic": "home/test/sub", "timeout": 5})
        assert reply.json() == {"result": {"topic": "home/test/sub", "payload": {"value": 3}}}
        timeout = await srv.http.post("/server/mqtt/subscribe",
                                      json={"topic": "home/test/never", "timeout": 0.2})
        assert timeout.status == 504
        wild = await srv.http.post("/server/mqtt/subscribe", json={"topic": "home/#"})
        assert wild.status == 400
        await p.publish("home/test/sub", b"", retain=True)


@pytest.mark.parametrize("protocol", ["v3.1", "v5"])
async def test_every_protocol_version_carries_the_api(
    tmp_path: Path, broker: Mosquitto, protocol: str
) -> None:
    config = f"""
[server]
host: 127.0.0.1
port: 0

[mqtt]
address: 127.0.0.1
port: {broker.port}
instance_name: proto
mqtt_protocol: {protocol}
"""
    async with probe(broker.port, "proto/moonraker/#") as p, \
            running_server(tmp_path / "srv", config):
        await p.wait("proto/moonraker/status", lambda m: m.json() == {"server": "online"})
        reply = await JsonRpcOverMqtt(p, "proto").request("server.info")
        assert "mqtt" in reply["result"]["components"]
    # the broker saw the server (keepalive 30) speak that version: p1 is 3.1, p5 is 5
    level = {"v3.1": 1, "v5": 5}[protocol]
    assert f"(p{level}, c1, k30)" in broker.log
