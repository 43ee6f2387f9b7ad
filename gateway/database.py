"""One SQLite file (WAL) for everything that must last.

All SQL runs on one worker thread so that a slow disk (an SD card's fsync) never stalls
the event loop that feeds the printer. synchronous=FULL: a write that returned has
reached the disk, so it survives a crash of the process and of the machine.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import enum
import sqlite3
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeVar

import msgspec

from gateway import dbfile
from gateway.dbfile import RestoreInfo
from gateway.errors import BadRequest, NotFound

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS namespace_items (
    namespace TEXT NOT NULL,
    key TEXT NOT NULL,
    value BLOB NOT NULL,
    PRIMARY KEY (namespace, key)
) WITHOUT ROWID;
"""

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode


class NamespaceAccess(enum.Enum):
    """What clients may do with a namespace a component keeps (Moonraker's terms)."""

    # clients may read it, never change it: Moonraker's "protected" namespaces
    READ_ONLY = "read_only"
    # clients may neither read nor change it, and it is not listed
    FORBIDDEN = "forbidden"


def split_key(key: str | list[str] | None) -> list[str]:
    if key is None:
        return []
    parts = key if isinstance(key, list) else key.split(".")
    if not parts or any(not isinstance(p, str) or p == "" for p in parts):
        raise BadRequest(f"Invalid database key: {key!r}")
    return parts


class Database:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="database"
        )
        self._conn: sqlite3.Connection | None = None
        # namespaces components keep for themselves: the client API may not write them
        self._reserved: dict[str, NamespaceAccess] = {}
        self._executor.submit(self._open).result()

    def _open(self) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=True)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        if dbfile.apply_staged(conn, self.path):
            # the copied header may name another journal mode
            conn.execute("PRAGMA journal_mode=WAL")
        conn.executescript(_SCHEMA)
        self._conn = conn

    @property
    def conn(self) -> sqlite3.Connection:
        """Only valid on the database thread (inside `run`)."""
        assert self._conn is not None
        return self._conn

    async def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn(connection)` on the database thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, fn, self.conn)

    def run_sync(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """For start-up and shutdown code outside the event loop."""
        return self._executor.submit(fn, self.conn).result()

    def close(self) -> None:
        def _close(conn: sqlite3.Connection) -> None:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.close()

        if self._conn is not None:
            self._executor.submit(_close, self._conn).result()
            self._conn = None
        self._executor.shutdown(wait=True)

    # -- the whole file: compact, back up, restore (gateway/dbfile.py) -------------------

    @property
    def restore_pending(self) -> bool:
        """A restore is staged and waits for the next server generation."""
        return dbfile.staged_path(self.path).is_file()

    async def compact(self) -> tuple[int, int]:
        """VACUUM: (size before, size after) in bytes."""
        return await self.run(lambda c: dbfile.compact(c, self.path))

    async def backup(self, dest: Path) -> None:
        await self.run(lambda c: dbfile.backup(c, dest))

    async def stage_restore(self, source: Path) -> RestoreInfo:
        """Check `source` and stage it; the next Database opened on this file (the next
        server generation) starts from it. BadRequest if it cannot be restored."""
        return await self.run(lambda c: dbfile.stage_restore(source, self.path))

    # -- reserved namespaces ---------------------------------------------------------------

    def reserve_namespace(
        self, namespace: str, access: NamespaceAccess = NamespaceAccess.READ_ONLY
    ) -> None:
        """Declare `namespace` as kept by the calling component: clients get 403 for any
        write through server.database.* (and for reads too when FORBIDDEN). Components
        themselves still read and write it here. Declare it in the constructor."""
        current = self._reserved.get(namespace)
        if current is NamespaceAccess.FORBIDDEN:
            return  # the stricter declaration stays
        self._reserved[namespace] = access

    def namespace_access(self, namespace: str) -> NamespaceAccess | None:
        """None: an ordinary namespace clients may read and write."""
        return self._reserved.get(namespace)

    @property
    def reserved_namespaces(self) -> Mapping[str, NamespaceAccess]:
        return dict(self._reserved)

    # -- namespaces: nested JSON values addressed by dotted keys, as Moonraker's ---------

    async def namespaces(self) -> list[str]:
        def q(conn: sqlite3.Connection) -> list[str]:
            rows = conn.execute("SELECT DISTINCT namespace FROM namespace_items ORDER BY 1")
            return [r[0] for r in rows]

        return await self.run(q)

    async def get_item(self, namespace: str, key: str | list[str] | None = None) -> object:
        parts = split_key(key)
        return await self.run(lambda c: _get(c, namespace, parts))

    async def insert_item(self, namespace: str, key: str | list[str], value: object) -> None:
        parts = split_key(key)
        if not parts:
            raise BadRequest("No data for argument: key")
        await self.run(lambda c: _insert(c, namespace, parts, value))

    async def delete_item(self, namespace: str, key: str | list[str]) -> object:
        parts = split_key(key)
        if not parts:
            raise BadRequest("No data for argument: key")
        return await self.run(lambda c: _delete(c, namespace, parts))

    def get_item_sync(self, namespace: str, key: str | None = None,
                      default: object = None) -> object:
        try:
            return self.run_sync(lambda c: _get(c, namespace, split_key(key)))
        except NotFound:
            return default

    def insert_item_sync(self, namespace: str, key: str, value: object) -> None:
        self.run_sync(lambda c: _insert(c, namespace, split_key(key), value))


def _namespace_missing(namespace: str) -> NotFound:
    return NotFound(f"Namespace {namespace} not found")


def _key_missing(namespace: str, key: str) -> NotFound:
    return NotFound(f"Key '{key}' in namespace '{namespace}' not found")


def _get(conn: sqlite3.Connection, namespace: str, parts: list[str]) -> object:
    if not parts:
        rows = conn.execute(
            "SELECT key, value FROM namespace_items WHERE namespace = ?", (namespace,)
        ).fetchall()
        if not rows:
            raise _namespace_missing(namespace)
        return {k: _decode(v) for k, v in rows}
    row = conn.execute(
        "SELECT value FROM namespace_items WHERE namespace = ? AND key = ?",
        (namespace, parts[0]),
    ).fetchone()
    if row is None:
        if not _namespace_exists(conn, namespace):
            raise _namespace_missing(namespace)
        raise _key_missing(namespace, parts[0])
    value = _decode(row[0])
    for depth, part in enumerate(parts[1:], start=1):
        if not isinstance(value, dict) or part not in value:
            raise _key_missing(namespace, ".".join(parts[: depth + 1]))
        value = value[part]
    return value


def _namespace_exists(conn: sqlite3.Connection, namespace: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM namespace_items WHERE namespace = ? LIMIT 1", (namespace,)
    ).fetchone()
    return row is not None


def _insert(conn: sqlite3.Connection, namespace: str, parts: list[str], value: object) -> None:
    top = parts[0]
    if len(parts) == 1:
        new_top = value
    else:
        row = conn.execute(
            "SELECT value FROM namespace_items WHERE namespace = ? AND key = ?",
            (namespace, top),
        ).fetchone()
        new_top = _decode(row[0]) if row is not None else {}
        if not isinstance(new_top, dict):
            new_top = {}
        node = new_top
        for part in parts[1:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        node[parts[-1]] = value
    conn.execute(
        "INSERT OR REPLACE INTO namespace_items (namespace, key, value) VALUES (?, ?, ?)",
        (namespace, top, _encode(new_top)),
    )


def _delete(conn: sqlite3.Connection, namespace: str, parts: list[str]) -> object:
    top = parts[0]
    if len(parts) == 1:
        value = _get(conn, namespace, parts)
        conn.execute(
            "DELETE FROM namespace_items WHERE namespace = ? AND key = ?", (namespace, top)
        )
        return value
    whole = _get(conn, namespace, [top])
    node = whole
    for depth, part in enumerate(parts[1:-1], start=1):
        if not isinstance(node, dict) or part not in node:
            raise _key_missing(namespace, ".".join(parts[: depth + 1]))
        node = node[part]
    if not isinstance(node, dict) or parts[-1] not in node:
        raise _key_missing(namespace, ".".join(parts))
    value = node.pop(parts[-1])
    conn.execute(
        "UPDATE namespace_items SET value = ? WHERE namespace = ? AND key = ?",
        (_encode(whole), namespace, top),
    )
    return value
