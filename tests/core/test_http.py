"""The HTTP door onto the same method table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gateway.registry import Params
from gateway.request import Request
from tests.harness import RunningServer, running_server


@pytest.fixture
async def srv(tmp_path: Path) -> Any:
    async with running_server(tmp_path) as running:
        yield running


async def test_get_server_info_wraps_result(srv: RunningServer) -> None:
    reply = await srv.http.get("/server/info")
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "application/json; charset=UTF-8"
    body = reply.json()
    assert set(body) == {"result"}
    assert body["result"]["api_version_string"] == "1.5.0"


async def test_unknown_route_is_404_with_json_body(srv: RunningServer) -> None:
    reply = await srv.http.get("/printer/does_not_exist")
    assert reply.status == 404
    assert reply.json() == {"error": {"code": 404, "message": "Not Found"}}


async def test_wrong_verb_is_405_with_json_body(srv: RunningServer) -> None:
    reply = await srv.http.post("/server/info")
    assert reply.status == 405
    assert reply.json() == {"error": {"code": 405, "message": "Method Not Allowed"}}


async def test_query_string_type_hints_convert_arguments(srv: RunningServer) -> None:
    seen: dict[str, Any] = {}

    def echo(request: Request) -> dict[str, Any]:
        seen.update(request.args)
        return request.args

    srv.server.register_endpoint("test.echo", echo, http="GET /test/echo")
    reply = await srv.http.get(
        "/test/echo?count:int=5&ratio:float=0.5&flag:bool=true&obj:json=%7B%22a%22%3A%5B1%2C2%5D%7D"
        "&plain=7"
    )
    assert reply.status == 200
    assert seen == {"count": 5, "ratio": 0.5, "flag": True, "obj": {"a": [1, 2]}, "plain": "7"}


async def test_bad_type_hint_value_is_400_naming_the_argument(srv: RunningServer) -> None:
    srv.server.register_endpoint("test.echo", lambda r: r.args, http="GET /test/echo")
    reply = await srv.http.get("/test/echo?count:int=abc")
    assert reply.status == 400
    assert "count" in reply.json()["error"]["message"]


async def test_form_and_json_bodies_merge_with_query(srv: RunningServer) -> None:
    srv.server.register_endpoint("test.echo", lambda r: r.args, http="POST /test/echo")
    form = await srv.http.post(
        "/test/echo?a=1",
        body="b=2&c=3",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert form.json()["result"] == {"a": "1", "b": "2", "c": "3"}
    js = await srv.http.post("/test/echo?a=1", json={"b": [1, 2], "c": None})
    assert js.json()["result"] == {"a": "1", "b": [1, 2], "c": None}


async def test_malformed_json_body_is_400(srv: RunningServer) -> None:
    srv.server.register_endpoint("test.echo", lambda r: r.args, http="POST /test/echo")
    reply = await srv.http.post(
        "/test/echo", body="{nope", headers={"Content-Type": "application/json"}
    )
    assert reply.status == 400
    assert "JSON" in reply.json()["error"]["message"]


async def test_a_declared_argument_of_the_wrong_type_is_400_naming_it(
    srv: RunningServer,
) -> None:
    class CountArgs(Params):
        count: int

    def count(args: CountArgs, request: Request) -> int:
        return args.count

    srv.server.register_endpoint("test.count", count, params=CountArgs,
                                 http="GET /test/count")
    reply = await srv.http.get("/test/count?count=abc")
    assert reply.status == 400
    assert reply.json()["error"]["message"] == (
        "Invalid argument [count]: expected `int`, got `str`")
    assert (await srv.http.get("/test/count?count=12")).json() == {"result": 12}


async def test_missing_database_namespace_is_404_with_moonraker_message(
    srv: RunningServer,
) -> None:
    reply = await srv.http.get("/server/database/item?namespace=mainsail")
    assert reply.status == 404
    assert reply.json()["error"] == {"code": 404, "message": "Namespace mainsail not found"}


async def test_jsonrpc_over_http_answers_single_and_batch(srv: RunningServer) -> None:
    single = await srv.http.post(
        "/server/jsonrpc", json={"jsonrpc": "2.0", "method": "server.info", "id": 3}
    )
    assert single.status == 200
    assert single.json()["id"] == 3
    assert single.json()["result"]["api_version"] == [1, 5, 0]
    batch = await srv.http.post(
        "/server/jsonrpc",
        json=[
            {"jsonrpc": "2.0", "method": "server.info", "id": 1},
            {"jsonrpc": "2.0", "method": "nope", "id": 2},
        ],
    )
    assert [r.get("error", {}).get("code") for r in batch.json()] == [None, -32601]
    parse = await srv.http.post("/server/jsonrpc", body="{x")
    assert parse.json()["error"]["code"] == -32700
    note = await srv.http.post(
        "/server/jsonrpc", json={"jsonrpc": "2.0", "method": "server.info"}
    )
    assert note.status == 204


async def test_server_config_reports_typed_and_original_values(srv: RunningServer) -> None:
    reply = (await srv.http.get("/server/config")).json()["result"]
    assert reply["config"]["server"]["port"] == 0
    assert reply["config"]["server"]["max_upload_size"] == 1024
    assert reply["orig"]["server"]["port"] == "0"
    assert reply["files"][0]["filename"] == "moonraker.conf"
    assert "server" in reply["files"][0]["sections"]


async def test_api_body_over_the_message_limit_is_413(tmp_path: Path) -> None:
    config = "[server]\nhost: 127.0.0.1\nport: 0\nmax_websocket_message_size: 1\n"
    async with running_server(tmp_path, config) as srv:
        srv.server.register_endpoint("test.echo", lambda r: r.args, http="POST /test/echo")
        reply = await srv.http.post("/test/echo", json={"x": "a" * 4096})
        assert reply.status == 413
        assert "larger than 1024 bytes" in reply.json()["error"]["message"]
        ok = await srv.http.post("/test/echo", json={"x": "a"})
        assert ok.json() == {"result": {"x": "a"}}


async def test_invalid_utf8_inside_a_json_string_is_400(srv: RunningServer) -> None:
    srv.server.register_endpoint("test.echo", lambda r: r.args, http="POST /test/echo")
    reply = await srv.http.post(
        "/test/echo", body=b'{"a": "\xff"}', headers={"Content-Type": "application/json"}
    )
    assert reply.status == 400
    rpc = await srv.http.post("/server/jsonrpc", body=b'{"jsonrpc":"2.0","method":"\xff","id":1}')
    assert rpc.json()["error"]["code"] == -32700


async def test_raw_endpoints_answer_the_bare_result(srv: RunningServer) -> None:
    async def plugin(request: Request) -> dict[str, bool]:
        return {"lights_on": True}

    srv.server.register_endpoint("test.plugin", plugin, http="GET /api/plugin/test",
                                 raw_http=True)
    reply = await srv.http.get("/api/plugin/test")
    assert reply.json() == {"lights_on": True}
    ws = await srv.websocket()
    assert await ws.call("test.plugin") == {"lights_on": True}
