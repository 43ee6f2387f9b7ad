"""Namespaces a component keeps are protected as Moonraker protects its own: clients may
read them (unless forbidden) and never change them; 403 with Moonraker's message over
HTTP and JSON-RPC. The frontends' own namespaces stay writable."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gateway.database import Database, NamespaceAccess
from tests.harness import RunningServer, Websocket, running_server

WRITE_FORBIDDEN = "Write access to namespace '{}' is forbidden"
ALL_FORBIDDEN = "Read/Write access to namespace '{}' is forbidden"


async def _ws_error(ws: Websocket, method: str, params: dict[str, Any]) -> dict[str, Any]:
    reply = await ws.request(method, params)
    assert "result" not in reply, reply
    error: dict[str, Any] = reply["error"]
    return error


async def _refused_writes(srv: RunningServer, ws: Websocket, namespace: str) -> None:
    message = WRITE_FORBIDDEN.format(namespace)
    for method, params in (
        ("server.database.post_item", {"namespace": namespace, "key": "a.b", "value": 1}),
        ("server.database.delete_item", {"namespace": namespace, "key": "a"}),
    ):
        assert await _ws_error(ws, method, params) == {"code": 403, "message": message}
    reply = await srv.http.post("/server/database/item",
                                json={"namespace": namespace, "key": "a", "value": 1})
    assert reply.status == 403
    assert reply.json()["error"] == {"code": 403, "message": message}
    reply = await srv.http.delete(f"/server/database/item?namespace={namespace}&key=a")
    assert reply.status == 403
    assert reply.json()["error"]["message"] == message


async def test_moonraker_namespace_is_read_only(tmp_path: Path) -> None:
    async with running_server(tmp_path) as srv:
        # what a component keeps there (internal writes are not the API's)
        await srv.server.database.insert_item("moonraker", "instance.id", "abc")
        ws = await srv.websocket()
        await _refused_writes(srv, ws, "moonraker")
        got = await ws.call("server.database.get_item",
                            {"namespace": "moonraker", "key": "instance"})
        assert got == {"namespace": "moonraker", "key": "instance", "value": {"id": "abc"}}
        reply = await srv.http.get("/server/database/item?namespace=moonraker&key=instance.id")
        assert reply.status == 200 and reply.json()["result"]["value"] == "abc"
        listed = await ws.call("server.database.list")
        assert "moonraker" in listed["namespaces"]
        # nothing changed
        assert await srv.server.database.get_item("moonraker") == {"instance": {"id": "abc"}}


async def test_forbidden_namespace_is_neither_readable_nor_listed(tmp_path: Path) -> None:
    async with running_server(tmp_path) as srv:
        await srv.server.database.insert_item("database", "debug_counter", {"get": 1})
        ws = await srv.websocket()
        message = ALL_FORBIDDEN.format("database")
        for method, params in (
            ("server.database.get_item", {"namespace": "database"}),
            ("server.database.get_item", {"namespace": "database", "key": "debug_counter"}),
            ("server.database.post_item", {"namespace": "database", "key": "x", "value": 1}),
            ("server.database.delete_item", {"namespace": "database", "key": "debug_counter"}),
        ):
            assert await _ws_error(ws, method, params) == {"code": 403, "message": message}
        reply = await srv.http.get("/server/database/item?namespace=database")
        assert reply.status == 403 and reply.json()["error"]["message"] == message
        assert "database" not in (await ws.call("server.database.list"))["namespaces"]
        http_list = (await srv.http.get("/server/database/list")).json()["result"]
        assert "database" not in http_list["namespaces"]


async def test_component_namespaces_are_declared_and_protected(tmp_path: Path) -> None:
    """Components declare what they keep: OctoPrint's settings and the bed mesh
    profiles change through their own APIs only, and can be read."""
    async with running_server(tmp_path) as srv:
        reserved = srv.server.database.reserved_namespaces
        assert reserved["octoprint_compat"] is NamespaceAccess.READ_ONLY
        assert reserved["bed_mesh"] is NamespaceAccess.READ_ONLY
        assert reserved["moonraker"] is NamespaceAccess.READ_ONLY
        assert reserved["database"] is NamespaceAccess.FORBIDDEN
        ws = await srv.websocket()
        for namespace in ("octoprint_compat", "bed_mesh"):
            await _refused_writes(srv, ws, namespace)
        # written through OctoPrint's own settings API, readable through the database API
        reply = await srv.http.post("/api/settings",
                                    json={"appearance": {"name": "Shelf printer"}})
        assert reply.status == 200, reply.body
        got = await ws.call("server.database.get_item",
                            {"namespace": "octoprint_compat", "key": "settings.appearance"})
        assert got["value"]["name"] == "Shelf printer"


async def test_frontend_namespaces_stay_writable(tmp_path: Path) -> None:
    """Mainsail's backup restore and reset write `timelapse`, `webcams` and
    `maintenance` directly, Fluidd migrates cameras into `webcams`: never protected."""
    async with running_server(tmp_path) as srv:
        ws = await srv.websocket()
        for namespace in ("mainsail", "fluidd", "timelapse", "webcams", "maintenance",
                          "lane_data", "history_notes"):
            posted = await ws.call("server.database.post_item",
                                   {"namespace": namespace, "key": "k", "value": {"v": 1}})
            assert posted["value"] == {"v": 1}
            await ws.call("server.database.delete_item", {"namespace": namespace, "key": "k"})


async def test_tables_are_out_of_the_namespace_api(tmp_path: Path) -> None:
    """Users, keys, history and the queue are SQL tables, not namespaces: the namespace
    API cannot name them at all."""
    async with running_server(tmp_path) as srv:
        ws = await srv.websocket()
        listed = await ws.call("server.database.list")
        for table in ("access_users", "access_secrets", "queue_jobs", "history_jobs"):
            assert table not in listed["namespaces"]
            error = await _ws_error(ws, "server.database.get_item", {"namespace": table})
            assert error == {"code": -32601, "message": f"Namespace {table} not found"}


async def test_key_must_be_a_string_or_a_list(tmp_path: Path) -> None:
    async with running_server(tmp_path) as srv:
        ws = await srv.websocket()
        error = await _ws_error(ws, "server.database.post_item",
                                {"namespace": "mainsail", "key": 5, "value": 1})
        assert error == {"code": -32602, "message":
                         "Invalid argument [key]: expected `str | array`, got `int`"}
        listed = await ws.call("server.database.post_item",
                               {"namespace": "mainsail", "key": ["a.b", "c"], "value": 2})
        assert listed["key"] == ["a.b", "c"]
        got = await ws.call("server.database.get_item",
                            {"namespace": "mainsail", "key": ["a.b"]})
        assert got["value"] == {"c": 2}


def test_a_stricter_declaration_wins(tmp_path: Path) -> None:
    db = Database(tmp_path / "db.sqlite")
    try:
        assert db.namespace_access("x") is None
        db.reserve_namespace("x", NamespaceAccess.FORBIDDEN)
        db.reserve_namespace("x")  # a later, weaker declaration does not open it
        assert db.namespace_access("x") is NamespaceAccess.FORBIDDEN
        db.reserve_namespace("y")
        assert db.namespace_access("y") is NamespaceAccess.READ_ONLY
    finally:
        db.close()


async def test_update_state_is_read_only(tmp_path: Path) -> None:
    """The update manager's saved state (Moonraker protects `update_manager` too)."""
    config = """
[server]
host: 127.0.0.1
port: 0
[update_manager]
enable_system_updates: False
"""
    async with running_server(tmp_path, config) as srv:
        assert srv.server.database.namespace_access("update_manager") is (
            NamespaceAccess.READ_ONLY)
        await srv.server.database.insert_item("update_manager", "mainsail", {"version": "v1"})
        ws = await srv.websocket()
        await _refused_writes(srv, ws, "update_manager")
        got = await ws.call("server.database.get_item",
                            {"namespace": "update_manager", "key": "mainsail"})
        assert got["value"] == {"version": "v1"}
