"""Database maintenance as Moonraker names it and Fluidd's database card calls it:
compact, backups (post, delete, list) and restore, over HTTP and JSON-RPC."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from gateway import dbfile
from gateway.database import Database
from tests.harness import Http, ServerProcess, Websocket, running_server, wait_for
from tests.printer.conftest import FAST_PRINTER, printer_of, square_print, wait_until, write_gcode


async def test_backup_list_and_delete_over_websocket(tmp_path: Path) -> None:
    async with running_server(tmp_path) as srv:
        ws = await srv.websocket()
        await ws.call("server.database.post_item",
                      {"namespace": "fluidd", "key": "uiSettings.general", "value": {"a": 1}})
        # Fluidd names its backups after the time: `${formatTimestamp(Date.now())}.db`
        made = await ws.call("server.database.post_backup", {"filename": "20261206-101500.db"})
        path = tmp_path / "backup" / "database" / "20261206-101500.db"
        assert made == {"backup_path": str(path.resolve())}
        # a real database holding what was written
        with sqlite3.connect(path) as conn:
            rows = conn.execute("SELECT namespace, key FROM namespace_items").fetchall()
        assert ("fluidd", "uiSettings") in rows
        listed = await ws.call("server.database.list", {"root": "config"})
        assert listed["backups"] == ["20261206-101500.db"]
        assert "fluidd" in listed["namespaces"]
        gone = await ws.call("server.database.delete_backup",
                             {"filename": "20261206-101500.db"})
        assert gone == {"backup_path": str(path.resolve())}
        assert not path.exists()
        assert (await ws.call("server.database.list"))["backups"] == []
        reply = await ws.request("server.database.delete_backup",
                                 {"filename": "20261206-101500.db"})
        assert reply["error"] == {"code": -32601,
                                  "message": "Backup file 20261206-101500.db does not exist"}


async def test_backup_and_delete_over_http(tmp_path: Path) -> None:
    async with running_server(tmp_path) as srv:
        # no name: Moonraker's default `sqldb-backup-<timespec>.db`
        reply = await srv.http.post("/server/database/backup")
        assert reply.status == 200
        backup_path = Path(reply.json()["result"]["backup_path"])
        assert re.fullmatch(r"sqldb-backup-\d{8}-\d{6}\.db", backup_path.name)
        assert backup_path.parent == (tmp_path / "backup" / "database").resolve()
        assert await asyncio.to_thread(backup_path.is_file)
        # a second one with the same name replaces it
        again = await srv.http.post("/server/database/backup",
                                    json={"filename": backup_path.name})
        assert again.json()["result"]["backup_path"] == str(backup_path)
        listed = (await srv.http.get("/server/database/list")).json()["result"]
        assert listed["backups"] == [backup_path.name]
        reply = await srv.http.delete(f"/server/database/backup?filename={backup_path.name}")
        assert reply.status == 200
        assert reply.json() == {"result": {"backup_path": str(backup_path)}}
        reply = await srv.http.delete(f"/server/database/backup?filename={backup_path.name}")
        assert reply.status == 404
        assert reply.json()["error"]["message"] == (
            f"Backup file {backup_path.name} does not exist")
        reply = await srv.http.request("DELETE", "/server/database/backup")
        assert reply.status == 400
        assert reply.json()["error"]["message"] == "No data for argument: filename"


async def test_backup_names_stay_inside_the_backup_folder(tmp_path: Path) -> None:
    async with running_server(tmp_path) as srv:
        ws = await srv.websocket()
        for name in ("../escape.db", "sub/dir.db", ".hidden.db", "..", "a\\b.db"):
            for method in ("server.database.post_backup", "server.database.delete_backup",
                           "server.database.restore"):
                reply = await ws.request(method, {"filename": name})
                assert reply["error"] == {"code": 400, "message": f"Invalid name {name}."}, (
                    method, name)
        # empty, too long or with control characters: refused by the declaration
        for name in ("", "x" * 300, "a\x00.db"):
            for method in ("server.database.post_backup", "server.database.delete_backup",
                           "server.database.restore"):
                reply = await ws.request(method, {"filename": name})
                assert reply["error"]["code"] == -32602, (method, name, reply)
                assert "[filename]" in reply["error"]["message"]
        reply = await srv.http.post("/server/database/backup",
                                    json={"filename": "../../config/moonraker.conf"})
        assert reply.status == 400
        assert not (tmp_path / "escape.db").exists()
        assert not (tmp_path / "backup" / "database").exists() or not any(
            (tmp_path / "backup" / "database").iterdir())


async def test_compact_reports_sizes_and_shrinks(tmp_path: Path) -> None:
    async with running_server(tmp_path) as srv:
        ws = await srv.websocket()
        blob = "x" * 4000
        for i in range(200):
            await srv.server.database.insert_item("bulk", f"k{i}", blob)
        for i in range(200):
            await srv.server.database.delete_item("bulk", f"k{i}")
        first = await ws.call("server.database.compact")
        assert set(first) == {"previous_size", "new_size"}
        assert first["previous_size"] > 600_000 > first["new_size"] > 0
        db_file = tmp_path / "database" / "skysail.sqlite"
        assert db_file.stat().st_size == first["new_size"]
        reply = await srv.http.post("/server/database/compact")
        assert reply.status == 200
        second = reply.json()["result"]
        assert second["previous_size"] == first["new_size"]
        assert second["new_size"] <= second["previous_size"]
        # the data is all still there
        await ws.call("server.database.post_item",
                      {"namespace": "mainsail", "key": "a", "value": 1})
        await ws.call("server.database.compact")
        assert (await ws.call("server.database.get_item",
                              {"namespace": "mainsail", "key": "a"}))["value"] == 1


async def test_restore_refuses_what_is_not_a_database(tmp_path: Path) -> None:
    async with running_server(tmp_path) as srv:
        ws = await srv.websocket()
        folder = tmp_path / "backup" / "database"
        folder.mkdir(parents=True)
        (folder / "notes.db").write_text("not a database at all " * 100)
        other = folder / "other.db"
        with sqlite3.connect(other) as conn:
            conn.execute("CREATE TABLE something (a)")
        conn.close()
        reply = await ws.request("server.database.restore", {"filename": "notes.db"})
        assert reply["error"]["code"] == 400
        assert reply["error"]["message"].startswith("Invalid database for restoration")
        reply = await ws.request("server.database.restore", {"filename": "other.db"})
        assert reply["error"] == {
            "code": 400,
            "message": "Invalid database for restoration, missing table 'namespace_items'"}
        reply = await srv.http.post("/server/database/restore", json={"filename": "nope.db"})
        assert reply.status == 400
        assert reply.json()["error"]["message"] == (
            f"Restoration File {(folder / 'nope.db').resolve()} does not exist")
        # nothing staged, the server carries on
        assert not srv.server.database.restore_pending
        assert sorted(p.name for p in folder.iterdir()) == ["notes.db", "other.db"]
        assert (await ws.call("server.database.post_backup", {"filename": "ok.db"}))


def _namespace(db: Database, namespace: str) -> Any:
    return db.get_item_sync(namespace)


def test_a_staged_restore_is_applied_by_the_next_open(tmp_path: Path) -> None:
    """The restore waits in `<db>.restore` and the next generation's Database starts from
    it; until then the live data is untouched. It also survives a crash: staging is the
    promise, applying happens at whichever open comes next."""
    path = tmp_path / "skysail.sqlite"
    db = Database(path)
    db.insert_item_sync("mainsail", "general", {"name": "before"})
    db.run_sync(lambda c: dbfile.backup(c, tmp_path / "b.db"))
    db.insert_item_sync("mainsail", "general", {"name": "after"})
    db.insert_item_sync("extra", "k", 1)
    info = db.run_sync(lambda c: dbfile.stage_restore(tmp_path / "b.db", path))
    assert info.namespaces == ["mainsail"] and "namespace_items" in info.tables
    assert db.restore_pending
    assert _namespace(db, "mainsail") == {"general": {"name": "after"}}
    db.close()
    db = Database(path)
    try:
        assert not db.restore_pending
        assert _namespace(db, "mainsail") == {"general": {"name": "before"}}
        assert _namespace(db, "extra") is None
        mode = db.run_sync(lambda c: c.execute("PRAGMA journal_mode").fetchone()[0])
        assert mode == "wal"
        db.insert_item_sync("mainsail", "later", 2)
    finally:
        db.close()
    assert not (tmp_path / "skysail.sqlite.restore").exists()


@pytest.mark.allow_error_logs
def test_a_broken_staged_restore_is_set_aside(tmp_path: Path) -> None:
    path = tmp_path / "skysail.sqlite"
    db = Database(path)
    db.insert_item_sync("mainsail", "a", 1)
    db.close()
    (tmp_path / "skysail.sqlite.restore").write_bytes(b"garbage" * 1000)
    db = Database(path)
    try:
        assert _namespace(db, "mainsail") == {"a": 1}
        assert not db.restore_pending
    finally:
        db.close()
    assert (tmp_path / "skysail.sqlite.restore.failed").exists()


async def _wait_restarted(proc: ServerProcess, http: Http, generations: int) -> None:
    async def back() -> bool:
        if proc.output.count("listening on") < generations:
            return False
        try:
            return (await http.get("/server/info")).status == 200
        except OSError:
            return False

    await wait_for(back, timeout=60, what="the server's next generation")


async def test_restore_brings_everything_back_in_a_running_server(tmp_path: Path) -> None:
    """Fluidd's restore button on a running server: the answer names what was restored,
    the server restarts in place, and every component - the settings namespaces, the
    users and the API key the access component holds in memory - starts from the
    backup. Once over the websocket (as Fluidd sends it), once over HTTP."""
    proc = ServerProcess(tmp_path)
    await asyncio.to_thread(proc.start)
    http = Http(proc.base)
    ws_url = f"ws://127.0.0.1:{proc.port}/websocket"
    try:
        ws = await Websocket.connect(ws_url)
        await ws.call("server.database.post_item",
                      {"namespace": "fluidd", "key": "uiSettings.theme", "value": "dark"})
        key_before = await ws.call("access.get_api_key")
        await ws.call("server.database.post_backup", {"filename": "before.db"})

        # everything changes after the backup
        await ws.call("server.database.post_item",
                      {"namespace": "fluidd", "key": "uiSettings.theme", "value": "light"})
        await ws.call("server.database.post_item",
                      {"namespace": "mainsail", "key": "general", "value": {"a": 1}})
        key_after = await ws.call("access.post_api_key")
        assert key_after != key_before
        await ws.call("access.post_user", {"username": "later", "password": "pw-pw-pw"})

        restored = await ws.call("server.database.restore", {"filename": "before.db"})
        assert restored["restored_namespaces"] == ["fluidd"]
        assert {"namespace_items", "access_users", "access_secrets"} <= set(
            restored["restored_tables"])
        await asyncio.wait_for(ws.closed.wait(), 30)  # the restart closes the socket
        await ws.close()
        await _wait_restarted(proc, http, 2)
        assert "restored from the staged backup" in proc.output

        ws = await Websocket.connect(ws_url)
        got = await ws.call("server.database.get_item", {"namespace": "fluidd"})
        assert got["value"] == {"uiSettings": {"theme": "dark"}}
        assert "mainsail" not in (await ws.call("server.database.list"))["namespaces"]
        assert await ws.call("access.get_api_key") == key_before
        users = await ws.call("access.users.list")
        assert "later" not in [u["username"] for u in users["users"]]
        # the backups themselves are kept
        assert (await ws.call("server.database.list"))["backups"] == ["before.db"]
        await ws.close()

        # the same over HTTP
        await http.post("/server/database/item",
                        json={"namespace": "fluidd", "key": "uiSettings.theme", "value": "x"})
        reply = await http.post("/server/database/restore", json={"filename": "before.db"})
        assert reply.status == 200
        assert reply.json()["result"]["restored_namespaces"] == ["fluidd"]
        await _wait_restarted(proc, http, 3)
        got = (await http.get("/server/database/item?namespace=fluidd&key=uiSettings")).json()
        assert got["result"]["value"] == {"theme": "dark"}
    finally:
        http.close()
        await asyncio.to_thread(proc.terminate)


async def test_no_maintenance_while_printing(tmp_path: Path) -> None:
    """Moonraker's rule: compact, backup and restore hold the database for the whole
    file, so they are refused while a print runs (Fluidd greys its buttons out too)."""
    async with running_server(tmp_path, FAST_PRINTER) as srv:
        printer = printer_of(srv)
        await wait_until(lambda: printer.state == "ready", what="printer ready")
        ws = await srv.websocket()
        await ws.call("server.database.post_backup", {"filename": "idle.db"})
        # long enough (minutes at this speed) to still print when the calls arrive
        write_gcode(srv, "long.gcode", square_print(layers=400))
        await ws.call("printer.print.start", {"filename": "long.gcode"})
        await wait_until(lambda: printer.query_status({"print_stats": ["state"]})
                         ["print_stats"]["state"] == "printing", what="printing")
        for method, params, what in (
            ("server.database.compact", {}, "compact"),
            ("server.database.post_backup", {"filename": "busy.db"}, "backup"),
            ("server.database.restore", {"filename": "idle.db"}, "restore"),
        ):
            reply = await ws.request(method, params)
            assert reply["error"] == {"code": 400,
                                      "message": f"Cannot {what} when Klipper is printing"}
        reply = await srv.http.post("/server/database/compact")
        assert reply.status == 400
        assert reply.json()["error"]["message"] == "Cannot compact when Klipper is printing"
        assert not srv.server.database.restore_pending
        # deleting and listing backups stay possible
        assert (await ws.call("server.database.list"))["backups"] == ["idle.db"]
        await ws.call("printer.print.cancel")
