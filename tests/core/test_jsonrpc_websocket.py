"""JSON-RPC 2.0 over /websocket: requests, errors, batches, notifications, concurrency."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import msgspec
import pytest

from gateway.errors import NotFound
from gateway.request import Request
from tests.harness import DEFAULT_CONFIG, RunningServer, running_server


async def next_frame(ws: Any, timeout: float = 10) -> Any:
    return await asyncio.wait_for(ws.raw_frames.get(), timeout)


@pytest.fixture
async def srv(tmp_path: Path) -> Any:
    async with running_server(tmp_path) as running:
        yield running


async def test_server_info_answers_with_moonraker_fields(srv: RunningServer) -> None:
    ws = await srv.websocket()
    info = await ws.call("server.info")
    assert set(info) >= {
        "klippy_connected", "klippy_state", "components", "failed_components",
        "registered_directories", "warnings", "websocket_count", "moonraker_version",
        "missing_klippy_requirements", "api_version", "api_version_string",
    }
    assert info["api_version"] == [1, 5, 0]
    assert info["api_version_string"] == "1.5.0"
    assert info["websocket_count"] == 1
    assert "database" in info["components"]
    assert isinstance(info["moonraker_version"], str)


async def test_request_without_params_and_with_string_id_is_answered(srv: RunningServer) -> None:
    ws = await srv.websocket()
    await ws.send_raw('{"jsonrpc":"2.0","method":"server.websocket.id","id":"abc"}')
    frame = await next_frame(ws)
    assert frame["id"] == "abc"
    assert isinstance(frame["result"]["websocket_id"], int)


async def test_parse_error_answers_32700_with_null_id(srv: RunningServer) -> None:
    ws = await srv.websocket()
    await ws.send_raw('{"jsonrpc": "2.0", "method": "server.info", "id": 5')
    frame = await next_frame(ws)
    assert frame == {"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"},
                     "id": None}


@pytest.mark.parametrize(
    "raw",
    [
        '{"jsonrpc":"1.0","method":"server.info","id":1}',
        '{"jsonrpc":"2.0","id":77}',
        "5",
        '{"jsonrpc":"2.0","method":5,"id":1}',
    ],
)
async def test_invalid_request_answers_32600(srv: RunningServer, raw: str) -> None:
    ws = await srv.websocket()
    await ws.send_raw(raw)
    frame = await next_frame(ws)
    assert frame["error"]["code"] == -32600
    assert frame["error"]["message"].startswith("Invalid Request")


async def test_unknown_method_answers_32601(srv: RunningServer) -> None:
    ws = await srv.websocket()
    reply = await ws.request("printer.does_not_exist", {})
    assert reply["error"] == {"code": -32601, "message": "Method not found"}


async def test_params_of_wrong_type_answer_32602(srv: RunningServer) -> None:
    ws = await srv.websocket()
    await ws.send_raw('{"jsonrpc":"2.0","method":"server.info","params":5,"id":9}')
    frame = await next_frame(ws)
    assert frame["id"] == 9
    assert frame["error"]["code"] == -32602


async def test_too_many_positional_params_answer_32602(srv: RunningServer) -> None:
    ws = await srv.websocket()
    reply = await ws.request("server.websocket.id", [1, 2])
    assert reply["error"]["code"] == -32602
    assert "positional" in reply["error"]["message"]


async def test_positional_params_map_onto_names(srv: RunningServer) -> None:
    ws = await srv.websocket()
    result = await ws.call(
        "server.connection.identify", ["mainsail", "2.18.2", "web", "https://x"]
    )
    ws_id = await ws.call("server.websocket.id")
    assert result == {"connection_id": ws_id["websocket_id"]}


async def test_missing_argument_answers_32602_naming_it(srv: RunningServer) -> None:
    ws = await srv.websocket()
    reply = await ws.request("server.database.post_item", {"namespace": "mainsail"})
    assert reply["error"] == {"code": -32602, "message": "No data for argument: key"}


async def test_not_found_from_handler_answers_32601_with_message(srv: RunningServer) -> None:
    ws = await srv.websocket()
    reply = await ws.request("server.database.get_item", {"namespace": "mainsail"})
    assert reply["error"] == {"code": -32601, "message": "Namespace mainsail not found"}


async def test_batch_mixing_good_and_bad_calls_answers_each_in_one_frame(
    srv: RunningServer,
) -> None:
    ws = await srv.websocket()
    await ws.send_raw(
        msgspec.json.encode(
            [
                {"jsonrpc": "2.0", "method": "server.websocket.id", "id": 91},
                {"jsonrpc": "2.0", "method": "nope.nope", "id": 92},
                {"jsonrpc": "2.0", "method": "server.info"},  # notification: no answer
                {"jsonrpc": "2.0", "method": "server.database.get_item",
                 "params": {"namespace": "none"}, "id": "x"},
                7,
            ]
        )
    )
    frame = await next_frame(ws)
    assert isinstance(frame, list)
    assert [f["id"] for f in frame] == [91, 92, "x", None]
    assert "websocket_id" in frame[0]["result"]
    assert frame[1]["error"]["code"] == -32601
    assert frame[2]["error"] == {"code": -32601, "message": "Namespace none not found"}
    assert frame[3]["error"]["code"] == -32600


async def test_empty_batch_is_an_invalid_request(srv: RunningServer) -> None:
    ws = await srv.websocket()
    await ws.send_raw("[]")
    frame = await next_frame(ws)
    assert frame["error"]["code"] == -32600


async def test_notifications_get_no_reply(srv: RunningServer) -> None:
    ws = await srv.websocket()
    await ws.send_raw('{"jsonrpc":"2.0","method":"server.info"}')
    await ws.send_raw('[{"jsonrpc":"2.0","method":"server.info"}]')
    await ws.send_raw('{"jsonrpc":"2.0","method":"server.websocket.id","id":1234}')
    frame = await next_frame(ws)
    assert frame["id"] == 1234
    assert ws.raw_frames.empty()


async def test_slow_handler_does_not_block_other_requests(srv: RunningServer) -> None:
    release = asyncio.Event()

    async def slow(request: Request) -> str:
        await release.wait()
        return "slow done"

    srv.server.register_endpoint("test.slow", slow)
    ws = await srv.websocket()
    slow_call = asyncio.ensure_future(ws.call("test.slow"))
    info = await ws.call("server.info", timeout=10)
    assert info["websocket_count"] == 1
    assert not slow_call.done()
    release.set()
    assert await slow_call == "slow done"


async def test_handler_bug_answers_internal_error_without_traceback(
    srv: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(request: Request) -> None:
        raise RuntimeError("secret internals")

    srv.server.register_endpoint("test.broken", broken, http="GET /test/broken")
    ws = await srv.websocket()
    with caplog.at_level("CRITICAL"):
        reply = await ws.request("test.broken")
        http = await srv.http.get("/test/broken")
    assert reply["error"]["code"] == -32603
    assert "secret" not in reply["error"]["message"]
    assert http.status == 500
    assert http.json()["error"]["code"] == 500
    assert b"Traceback" not in http.body and b"secret" not in http.body


async def test_handler_errors_keep_the_code_moonraker_uses(srv: RunningServer) -> None:
    def missing(request: Request) -> None:
        raise NotFound("File nope.gcode does not exist")

    srv.server.register_endpoint("test.missing", missing)
    ws = await srv.websocket()
    reply = await ws.request("test.missing")
    assert reply["error"] == {"code": -32601, "message": "File nope.gcode does not exist"}


async def test_oversized_message_closes_with_reason(tmp_path: Path) -> None:
    config = DEFAULT_CONFIG + "max_websocket_message_size: 1\n"
    async with running_server(tmp_path, config) as srv:
        ws = await srv.websocket()
        await ws.send_raw('{"jsonrpc":"2.0","method":"server.info","params":{"x":"'
                          + "a" * 2048 + '"},"id":1}')
        await asyncio.wait_for(ws.closed.wait(), 10)
        assert ws.conn.close_code == 1009


async def test_connection_limit_closes_extra_socket_with_reason(tmp_path: Path) -> None:
    config = DEFAULT_CONFIG + "max_websocket_connections: 2\n"
    async with running_server(tmp_path, config) as srv:
        first = await srv.websocket()
        second = await srv.websocket()
        third = await srv.websocket()
        await asyncio.wait_for(third.closed.wait(), 10)
        assert third.conn.close_code == 1013
        assert "Maximum number of websocket connections" in (third.conn.close_reason or "")
        assert (await first.call("server.info"))["websocket_count"] == 2
        assert (await second.call("server.websocket.id"))["websocket_id"]


async def test_identify_returns_the_websocket_id(srv: RunningServer) -> None:
    ws = await srv.websocket()
    ident = await ws.call(
        "server.connection.identify",
        {"client_name": "mainsail", "version": "2.18.2", "type": "web",
         "url": "https://github.com/mainsail-crew/mainsail"},
    )
    ws_id = await ws.call("server.websocket.id")
    assert ident["connection_id"] == ws_id["websocket_id"]
    again = await ws.request("server.connection.identify",
                             {"client_name": "x", "version": "1", "type": "web", "url": "u"})
    assert again["error"]["code"] == 400


async def test_notifications_broadcast_to_every_websocket(srv: RunningServer) -> None:
    a = await srv.websocket()
    b = await srv.websocket()
    await a.call("server.info")
    await b.call("server.info")
    srv.server.send_notification("notify_test_event", [{"x": 1}])
    for ws in (a, b):
        note = await ws.wait_notification("notify_test_event")
        assert note == {"jsonrpc": "2.0", "method": "notify_test_event", "params": [{"x": 1}]}
