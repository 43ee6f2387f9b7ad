"""Agents, as Moonraker's extensions: a real websocket agent identifies, is listed, is
called through server.extensions.request (websocket and HTTP), sends events to the other
clients, and registers remote methods that G-code calls."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from gateway.errors import ServerError
from gateway.request import Caller, Transport
from tests.extensions.agent import AGENT, AGENT_INFO, WEB, Refuse, RpcClient
from tests.harness import RunningServer, running_server, wait_for
from tests.printer.conftest import FAST_PRINTER, printer_of, wait_until


@pytest.fixture
async def srv(tmp_path: Path) -> AsyncIterator[RunningServer]:
    async with running_server(tmp_path) as running:
        yield running


async def _client(srv: RunningServer, identity: dict[str, Any]) -> RpcClient:
    client = await RpcClient.connect(srv.ws_url)
    await client.call("server.connection.identify", identity)
    return client


async def test_an_agent_identifies_and_is_listed(srv: RunningServer) -> None:
    web = await _client(srv, WEB)
    agent = await RpcClient.connect(srv.ws_url)
    try:
        ident = await agent.call("server.connection.identify", AGENT)
        assert ident == {"connection_id": (await agent.call("server.websocket.id"))[
            "websocket_id"]}
        # every other client hears of it, with Moonraker's agent info
        note = await web.wait_received("notify_agent_event")
        assert note["params"] == [{"agent": "moonagent", "event": "connected",
                                   "data": AGENT_INFO}]
        listed = await web.call("server.extensions.list")
        assert listed == {"agents": [AGENT_INFO]}
        reply = await srv.http.get("/server/extensions/list")
        assert reply.status == 200 and reply.json() == {"result": {"agents": [AGENT_INFO]}}
        assert "extensions" in (await web.call("server.info"))["components"]
        # the agent does not hear its own arrival
        assert agent.events() == []
    finally:
        await agent.close()
    note = await web.wait_received("notify_agent_event",
                                   lambda m: m["params"][0]["event"] == "disconnected")
    assert note["params"] == [{"agent": "moonagent", "event": "disconnected"}]
    await wait_for(lambda: srv.server.components["extensions"].agents == {},  # type: ignore[attr-defined]
                   what="agent gone")
    assert (await web.call("server.extensions.list")) == {"agents": []}
    await web.close()


async def test_identify_checks_the_type_and_agent_names(srv: RunningServer) -> None:
    first = await _client(srv, AGENT)
    second = await RpcClient.connect(srv.ws_url)
    try:
        reply = await second.request("server.connection.identify", AGENT)
        assert reply["error"] == {
            "code": 400, "message": "Agent 'moonagent' already registered and connected"}
        reply = await second.request("server.connection.identify",
                                     {**AGENT, "type": "robot"})
        assert reply["error"] == {"code": 400, "message": "Invalid Client Type: robot"}
        # still unidentified: another name is fine
        await second.call("server.connection.identify", {**AGENT, "client_name": "other"})
        reply = await second.request("server.connection.identify", AGENT)
        assert reply["error"]["code"] == 400
        assert reply["error"]["message"].startswith("Connection already identified: {'name'")
        names = [a["name"] for a in (await first.call("server.extensions.list"))["agents"]]
        assert sorted(names) == ["moonagent", "other"]
        # type is case-insensitive, as Moonraker lowers it
        third = await RpcClient.connect(srv.ws_url)
        await third.call("server.connection.identify", {**WEB, "type": "WEB"})
        await third.close()
    finally:
        await first.close()
        await second.close()


async def test_extension_requests_reach_the_agent_and_come_back(srv: RunningServer) -> None:
    agent = await _client(srv, AGENT)
    seen: list[Any] = []

    def hello(params: Any) -> Any:
        seen.append(params)
        return {"greeting": "hello", "got": params}

    def broken(params: Any) -> Any:
        raise Refuse({"code": -31000, "message": "spool scale offline", "data": [1, 2]})

    agent.methods["moontest.hello_world"] = hello
    agent.methods["moontest.broken"] = broken
    web = await _client(srv, WEB)
    try:
        args = {"argone": True, "argtwo": 9000}
        result = await web.call("server.extensions.request", {
            "agent": "moonagent", "method": "moontest.hello_world", "arguments": args})
        assert result == {"greeting": "hello", "got": args}
        # positional arguments, and none at all (no params member is sent then)
        await web.call("server.extensions.request", {
            "agent": "moonagent", "method": "moontest.hello_world", "arguments": [1, "b"]})
        await web.call("server.extensions.request",
                       {"agent": "moonagent", "method": "moontest.hello_world"})
        assert seen == [args, [1, "b"], None]
        assert "params" not in agent.requests[-1]
        # over HTTP
        reply = await srv.http.post("/server/extensions/request", json={
            "agent": "moonagent", "method": "moontest.hello_world", "arguments": {"x": 1}})
        assert reply.status == 200
        assert reply.json() == {"result": {"greeting": "hello", "got": {"x": 1}}}
        # the agent's error: 424 with its error object as data
        reply = await web.request("server.extensions.request",
                                  {"agent": "moonagent", "method": "moontest.broken"})
        assert reply["error"] == {
            "code": 424, "message": "Agent moonagent RPC error",
            "data": {"code": -31000, "message": "spool scale offline", "data": [1, 2]}}
        http = await srv.http.post("/server/extensions/request",
                                   json={"agent": "moonagent", "method": "moontest.broken"})
        assert http.status == 424
        assert http.json()["error"]["message"] == "Agent moonagent RPC error"
        # a method the agent does not have: its own -32601, relayed the same way
        reply = await web.request("server.extensions.request",
                                  {"agent": "moonagent", "method": "nope"})
        assert reply["error"]["code"] == 424
        assert reply["error"]["data"]["code"] == -32601
        # the caller's mistakes
        reply = await web.request("server.extensions.request",
                                  {"agent": "ghost", "method": "x"})
        assert reply["error"] == {"code": 400, "message": "Agent ghost not connected"}
        # wrong or missing arguments are refused at the door (-32602 over JSON-RPC, 400
        # over HTTP) and never reach the agent
        reply = await web.request("server.extensions.request",
                                  {"agent": "moonagent", "method": "x", "arguments": 5})
        assert reply["error"]["code"] == -32602
        assert reply["error"]["message"].startswith("Invalid argument [arguments]")
        reply = await web.request("server.extensions.request", {"agent": "moonagent"})
        assert reply["error"] == {"code": -32602, "message": "No data for argument: method"}
        http = await srv.http.post("/server/extensions/request", json={"agent": "moonagent"})
        assert http.status == 400
        assert http.json()["error"]["message"] == "No data for argument: method"
        assert [r["method"] for r in agent.requests].count("x") == 0
        assert len(srv.server.client_calls) == 0
    finally:
        await web.close()
        await agent.close()


async def test_a_request_fails_at_once_when_the_agent_leaves(srv: RunningServer) -> None:
    agent = await _client(srv, AGENT)
    never = asyncio.Event()

    async def hang(params: Any) -> Any:
        await never.wait()

    agent.methods["slow"] = hang
    web = await _client(srv, WEB)
    try:
        pending = asyncio.ensure_future(web.request(
            "server.extensions.request", {"agent": "moonagent", "method": "slow"}))
        await wait_for(lambda: len(agent.requests) == 1, what="the request at the agent")
        await agent.close()
        reply = await asyncio.wait_for(pending, 10)
        assert reply["error"] == {"code": 503,
                                  "message": "Agent moonagent disconnected before answering"}
        assert len(srv.server.client_calls) == 0
    finally:
        await web.close()


async def test_agent_events_go_to_every_other_client(srv: RunningServer) -> None:
    agent = await _client(srv, AGENT)
    web = await _client(srv, WEB)
    other_agent = await _client(srv, {**AGENT, "client_name": "spoolbridge"})
    try:
        assert await agent.call("connection.send_event",
                                {"event": "my_event", "data": {"my_arg": "optional data"}}) == "ok"
        expected = {"agent": "moonagent", "event": "my_event",
                    "data": {"my_arg": "optional data"}}
        for client in (web, other_agent):
            note = await client.wait_received(
                "notify_agent_event", lambda m: m["params"][0]["event"] == "my_event")
            assert note["params"] == [expected]
        # without an id: no answer, the event still goes out; without data: no data member
        await agent.send({"jsonrpc": "2.0", "method": "connection.send_event",
                          "params": {"event": "bare"}})
        note = await web.wait_received("notify_agent_event",
                                       lambda m: m["params"][0]["event"] == "bare")
        assert note["params"] == [{"agent": "moonagent", "event": "bare"}]
        # the sender hears other agents' events, never its own
        assert [e["event"] for e in agent.events()] == ["connected"]
        assert agent.events()[0]["agent"] == "spoolbridge"
        reply = await agent.request("connection.send_event", {"event": "connected"})
        assert reply["error"] == {"code": 400, "message": "Event 'connected' is reserved"}
        reply = await web.request("connection.send_event", {"event": "x"})
        assert reply["error"] == {
            "code": 400, "message": "Only connections of the 'agent' type can send events"}
        # websocket only: no HTTP route, and no connection behind POST /server/jsonrpc
        assert (await srv.http.post("/connection/send_event", json={"event": "x"})).status == 404
        reply = await srv.http.post("/server/jsonrpc", json={
            "jsonrpc": "2.0", "method": "connection.send_event", "params": {"event": "x"},
            "id": 1})
        assert reply.json()["error"] == {"code": 400, "message": "No connection detected"}
    finally:
        for client in (web, other_agent, agent):
            await client.close()


async def test_agents_must_be_authenticated(tmp_path: Path) -> None:
    config = """
[server]
host: 127.0.0.1
port: 0
[authorization]
trusted_clients:
  10.99.0.0/16
"""
    async with running_server(tmp_path, config) as srv:
        access = srv.server.components["access"]
        key = access.control.api_key  # type: ignore[attr-defined]
        anonymous = await RpcClient.connect(srv.ws_url)
        reply = await anonymous.request("server.connection.identify", AGENT)
        assert reply["error"]["code"] == -32602
        assert srv.server.components["extensions"].agents == {}  # type: ignore[attr-defined]
        await anonymous.close()
        keyed = await RpcClient.connect(srv.ws_url)
        await keyed.call("server.connection.identify", {**AGENT, "api_key": key})
        assert (await keyed.call("server.extensions.list"))["agents"] == [AGENT_INFO]
        await keyed.close()


async def test_remote_methods_are_called_from_gcode(tmp_path: Path) -> None:
    """Klipper's remote methods on a Marlin printer: the agent's method becomes a host
    command, so a console line or a macro calls it; the call is a notification with
    the parameters by name (numbers as numbers), as Klipper sends it."""
    async with running_server(tmp_path, FAST_PRINTER) as srv:
        printer = printer_of(srv)
        await wait_until(lambda: printer.state == "ready", what="printer ready")
        agent = await _client(srv, AGENT)
        web = await _client(srv, WEB)
        try:
            assert await agent.call("connection.register_remote_method",
                                    {"method_name": "firemon_alert_heated"}) == "ok"
            await web.call("printer.gcode.script",
                           {"script": "FIREMON_ALERT_HEATED HEATER=extruder TEMP=200"})
            call = await agent.wait_received("firemon_alert_heated")
            assert call == {"jsonrpc": "2.0", "method": "firemon_alert_heated",
                            "params": {"heater": "extruder", "temp": 200}}
            await web.call("printer.gcode.script", {"script": "firemon_alert_heated"})
            await wait_for(lambda: len([m for m in agent.received
                                        if m["method"] == "firemon_alert_heated"]) == 2)
            assert agent.received[-1] == {"jsonrpc": "2.0", "method": "firemon_alert_heated"}
            help_text = await web.call("printer.gcode.help")
            assert "FIREMON_ALERT_HEATED" in help_text
            # one owner per name; names that cannot be G-code commands are refused
            reply = await agent.request("connection.register_remote_method",
                                        {"method_name": "firemon_alert_heated"})
            assert reply["error"] == {
                "code": 400, "message": "Remote method (firemon_alert_heated) already registered"}
            for bad in ("g28", "M104", "has.dot", "has space", ""):
                reply = await agent.request("connection.register_remote_method",
                                            {"method_name": bad})
                assert reply["error"]["code"] == 400, bad
            reply = await agent.request("connection.register_remote_method",
                                        {"method_name": "pause"})
            assert reply["error"] == {
                "code": 400, "message": "Remote method (pause) would replace the command PAUSE"}
            reply = await web.request("connection.register_remote_method",
                                      {"method_name": "mine"})
            assert reply["error"] == {
                "code": 400,
                "message": "Only connections of the 'agent' type can register methods"}
        finally:
            await agent.close()
        # the agent's methods leave with it
        await wait_for(lambda: "FIREMON_ALERT_HEATED" not in printer.query_status(
            {"gcode": ["commands"]})["gcode"]["commands"], what="method unregistered")
        assert "FIREMON_ALERT_HEATED" not in await web.call("printer.gcode.help")
        await web.close()


async def test_a_stray_answer_gets_no_reply(srv: RunningServer) -> None:
    """A client's JSON-RPC response that answers nothing we asked is dropped quietly
    (Moonraker does the same); it is not an invalid request."""
    agent = await _client(srv, AGENT)
    try:
        await agent.send({"jsonrpc": "2.0", "result": {"late": True}, "id": 987654})
        await agent.send({"jsonrpc": "2.0", "error": {"code": 1, "message": "x"}, "id": 5})
        await agent.send([{"jsonrpc": "2.0", "result": 1, "id": 7}])
        assert (await agent.call("server.extensions.list"))["agents"] == [AGENT_INFO]
        assert agent.unmatched == []
        # still an error: neither a request nor an answer
        reply = await srv.http.post("/server/jsonrpc", json={"jsonrpc": "2.0", "id": 3})
        assert reply.json()["error"]["code"] == -32600
    finally:
        await agent.close()


async def test_components_reach_agents_through_the_method_table(srv: RunningServer) -> None:
    """In-process callers (MQTT, other components) call an agent the way clients do:
    Registry.call on server.extensions.request, same checks, same errors."""
    agent = await _client(srv, AGENT)
    agent.methods["spool.active"] = lambda params: {"spool_id": 7, "asked": params}
    internal = Caller(ip="", transport=Transport.INTERNAL)
    try:
        result = await srv.server.registry.call(
            "server.extensions.request",
            {"agent": "moonagent", "method": "spool.active", "arguments": {"tool": 0}},
            internal)
        assert result == {"spool_id": 7, "asked": {"tool": 0}}
        listed = await srv.server.registry.call("server.extensions.list", {}, internal)
        assert listed == {"agents": [AGENT_INFO]}
        with pytest.raises(ServerError) as err:
            await srv.server.registry.call(
                "server.extensions.request", {"agent": "ghost", "method": "x"}, internal)
        assert (err.value.status, err.value.message) == (400, "Agent ghost not connected")
    finally:
        await agent.close()
