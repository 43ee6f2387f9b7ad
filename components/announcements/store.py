"""Announcement entries and the feeds added through the API, in tables of our own (not a
namespace: the frontends' database backups need not carry them). Runs on the database
thread."""

from __future__ import annotations

import sqlite3

import msgspec

ENTRIES = "announcement_entries"
FEEDS = "announcement_feeds"

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {ENTRIES} (
    entry_id TEXT PRIMARY KEY,
    data BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS {FEEDS} (
    name TEXT PRIMARY KEY
);
"""

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode


def setup(conn: sqlite3.Connection) -> tuple[list[dict[str, object]], list[str]]:
    conn.executescript(SCHEMA)
    entries = []
    for (data,) in conn.execute(f"SELECT data FROM {ENTRIES}"):
        entry = _decode(data)
        if isinstance(entry, dict) and "entry_id" in entry:
            entries.append(entry)
    feeds = [r[0] for r in conn.execute(f"SELECT name FROM {FEEDS} ORDER BY rowid")]
    return entries, feeds


def save_entry(conn: sqlite3.Connection, entry: dict[str, object]) -> None:
    conn.execute(
        f"INSERT OR REPLACE INTO {ENTRIES} (entry_id, data) VALUES (?, ?)",
        (entry["entry_id"], _encode(entry)),
    )


def delete_entries(conn: sqlite3.Connection, entry_ids: list[str]) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.executemany(f"DELETE FROM {ENTRIES} WHERE entry_id = ?", [(e,) for e in entry_ids])
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def add_feed(conn: sqlite3.Connection, name: str) -> None:
    conn.execute(f"INSERT OR IGNORE INTO {FEEDS} (name) VALUES (?)", (name,))


def remove_feed(conn: sqlite3.Connection, name: str) -> None:
    conn.execute(f"DELETE FROM {FEEDS} WHERE name = ?", (name,))
