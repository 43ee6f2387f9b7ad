"""server.database.*: Moonraker's namespaces, dotted keys and error messages; writes last."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

import msgspec
import pytest
import tornado.httpclient

from tests.harness import ServerProcess, running_server


async def test_post_get_delete_with_dotted_keys(tmp_path: Path) -> None:
    async with running_server(tmp_path) as srv:
        ws = await srv.websocket()
        posted = await ws.call(
            "server.database.post_item",
            {"namespace": "mainsail", "key": "general.printername", "value": "Skysail test"},
        )
        assert posted == {"namespace": "mainsail", "key": "general.printername",
                          "value": "Skysail test"}
        await ws.call("server.database.post_item",
                      {"namespace": "mainsail", "key": "initVersion", "value": "2.18.2"})
        whole = await ws.call("server.database.get_item", {"namespace": "mainsail"})
        assert whole == {"namespace": "mainsail", "key": None,
                         "value": {"general": {"printername": "Skysail test"},
                                   "initVersion": "2.18.2"}}
        sub = await ws.call("server.database.get_item",
                            {"namespace": "mainsail", "key": "general"})
        assert sub["value"] == {"printername": "Skysail test"}
        listed = await ws.call("server.database.list", {"root": "config"})
        assert "mainsail" in listed["namespaces"] and listed["backups"] == []
        deleted = await ws.call("server.database.delete_item",
                                {"namespace": "mainsail", "key": "general.printername"})
        assert deleted["value"] == "Skysail test"
        await ws.call("server.database.delete_item",
                      {"namespace": "mainsail", "key": "general"})
        await ws.call("server.database.delete_item",
                      {"namespace": "mainsail", "key": "initVersion"})
        listed = await ws.call("server.database.list")
        assert "mainsail" not in listed["namespaces"]


async def test_missing_key_names_first_missing_part(tmp_path: Path) -> None:
    async with running_server(tmp_path) as srv:
        ws = await srv.websocket()
        await ws.call("server.database.post_item",
                      {"namespace": "mainsail", "key": "a", "value": 1})
        reply = await ws.request("server.database.get_item",
                                 {"namespace": "mainsail", "key": "nope.missing"})
        assert reply["error"] == {"code": -32601,
                                  "message": "Key 'nope' in namespace 'mainsail' not found"}
        reply = await ws.request("server.database.delete_item",
                                 {"namespace": "mainsail", "key": "nope"})
        assert reply["error"]["code"] == -32601
        http = await srv.http.delete("/server/database/item?namespace=mainsail&key=nope")
        assert http.status == 404


async def test_values_keep_their_json_types(tmp_path: Path) -> None:
    value = {"list": [1, 2.5, "x", None, True], "nested": {"deep": {"er": []}}}
    async with running_server(tmp_path) as srv:
        ws = await srv.websocket()
        await ws.call("server.database.post_item",
                      {"namespace": "fluidd", "key": "uiSettings", "value": value})
        got = await ws.call("server.database.get_item",
                            {"namespace": "fluidd", "key": "uiSettings"})
        assert got["value"] == value


async def test_items_survive_a_restart(tmp_path: Path) -> None:
    async with running_server(tmp_path) as srv:
        ws = await srv.websocket()
        await ws.call("server.database.post_item",
                      {"namespace": "mainsail", "key": "x.y", "value": [1, 2]})
    async with running_server(tmp_path) as srv:
        ws = await srv.websocket()
        got = await ws.call("server.database.get_item", {"namespace": "mainsail", "key": "x"})
        assert got["value"] == {"y": [1, 2]}


def _fetch(url: str, method: str = "GET", body: Any = None) -> Any:
    client = tornado.httpclient.HTTPClient()
    try:
        resp = client.fetch(url, method=method, raise_error=False,
                            body=None if body is None else msgspec.json.encode(body),
                            headers={"Content-Type": "application/json"})
        return resp.code, msgspec.json.decode(resp.body)
    finally:
        client.close()


@pytest.mark.parametrize("count", [25])
def test_acknowledged_writes_survive_kill_9(tmp_path: Path, count: int) -> None:
    proc = ServerProcess(tmp_path)
    proc.start()
    try:
        for i in range(count):
            code, _ = _fetch(f"{proc.base}/server/database/item", "POST",
                             {"namespace": "crash", "key": f"k{i}", "value": i})
            assert code == 200
    finally:
        proc.kill()  # SIGKILL straight after the last acknowledgement
    proc = ServerProcess(tmp_path)
    proc.start()
    try:
        code, body = _fetch(f"{proc.base}/server/database/item?namespace=crash")
        assert code == 200
        assert body["result"]["value"] == {f"k{i}": i for i in range(count)}
    finally:
        proc.kill()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_shuts_down_cleanly(tmp_path: Path, sig: signal.Signals) -> None:
    proc = ServerProcess(tmp_path)
    proc.start()
    code, _ = _fetch(f"{proc.base}/server/database/item", "POST",
                     {"namespace": "n", "key": "k", "value": 1})
    assert code == 200
    assert proc.terminate(sig=sig) == 0
    assert "Skysail stopping" in proc.output
    # WAL checkpointed on a clean stop: no leftover write-ahead log content
    wal = tmp_path / "database" / "skysail.sqlite-wal"
    assert not wal.exists() or wal.stat().st_size == 0


async def test_concurrent_writes_to_one_namespace_all_land(tmp_path: Path) -> None:
    async with running_server(tmp_path) as srv:
        ws = await srv.websocket()
        await asyncio.gather(*(
            ws.call("server.database.post_item",
                    {"namespace": "many", "key": f"group.k{i}", "value": i})
            for i in range(50)
        ))
        got = await ws.call("server.database.get_item", {"namespace": "many", "key": "group"})
        assert got["value"] == {f"k{i}": i for i in range(50)}
