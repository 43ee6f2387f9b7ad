"""Whole-file operations on the database: compact, back up, restore.

They run on the database thread with its one connection, so nothing else touches the
file meanwhile. A restore is staged, not applied: the backup is copied next to the
database (`<name>.restore`), checked, and applied by the next `Database` to open the file,
that is by the next server generation, before any component has read anything. So no
component of the old generation can write its cached state over the restored data, and
every component of the new one starts from it. A staged restore also survives a crash:
an answered restore is applied at the next start.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from gateway.errors import BadRequest

log = logging.getLogger(__name__)

NAMESPACE_TABLE = "namespace_items"


@dataclass(frozen=True, slots=True)
class RestoreInfo:
    tables: list[str]
    namespaces: list[str]


def staged_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".restore")


def _partial(path: Path) -> Path:
    # a hidden name: a backup listing never shows a file being written
    return path.with_name(f".{path.name}.partial")


def compact(conn: sqlite3.Connection, db_path: Path) -> tuple[int, int]:
    """VACUUM; the file sizes before and after, with the WAL folded in both times."""
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = db_path.stat().st_size
    conn.execute("VACUUM")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return before, db_path.stat().st_size


def backup(conn: sqlite3.Connection, dest: Path) -> None:
    """A consistent copy of the live database at `dest` (replaced if present). The copy
    is in rollback-journal mode, so reading it later leaves no -wal/-shm files beside it."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = _partial(dest)
    tmp.unlink(missing_ok=True)
    try:
        copy = sqlite3.connect(tmp)
        try:
            conn.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")
        finally:
            copy.close()
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def stage_restore(source: Path, db_path: Path) -> RestoreInfo:
    """Copy `source` to the staging file after checking it is a database we can restore:
    BadRequest naming the problem otherwise (nothing is staged then)."""
    if not source.is_file():
        raise BadRequest(f"Restoration File {source} does not exist")
    staged = staged_path(db_path)
    tmp = _partial(staged)
    tmp.unlink(missing_ok=True)
    try:
        try:
            info = _copy_checked(source, tmp)
        except sqlite3.DatabaseError as exc:
            raise BadRequest(f"Invalid database for restoration: {exc}") from None
        os.replace(tmp, staged)
    finally:
        tmp.unlink(missing_ok=True)
    return info


def _copy_checked(source: Path, dest: Path) -> RestoreInfo:
    src = sqlite3.connect(source)
    try:
        copy = sqlite3.connect(dest)
        try:
            src.backup(copy)
            verdict = copy.execute("PRAGMA quick_check").fetchone()
            if verdict is None or verdict[0] != "ok":
                raise BadRequest(f"Invalid database for restoration: {verdict}")
            tables = [r[0] for r in copy.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
            if NAMESPACE_TABLE not in tables:
                raise BadRequest(
                    f"Invalid database for restoration, missing table '{NAMESPACE_TABLE}'")
            namespaces = [r[0] for r in copy.execute(
                f"SELECT DISTINCT namespace FROM {NAMESPACE_TABLE} ORDER BY 1")]
            copy.execute("PRAGMA journal_mode=DELETE")
        finally:
            copy.close()
    finally:
        src.close()
    return RestoreInfo(tables, namespaces)


def apply_staged(conn: sqlite3.Connection, db_path: Path) -> bool:
    """At open, before anything reads: replace the contents with a staged restore, if
    one waits. One backup step is one transaction, so a crash midway changes nothing
    and the restore is simply applied at the next start. A staged file that cannot be
    applied is kept aside (`.failed`) and the current data stays."""
    staged = staged_path(db_path)
    if not staged.is_file():
        return False
    try:
        src = sqlite3.connect(staged)
        try:
            src.backup(conn)
        finally:
            src.close()
    except sqlite3.DatabaseError:
        log.exception("database: the staged restore %s could not be applied; kept as "
                      ".failed, the current data stays", staged)
        with contextlib.suppress(OSError):
            os.replace(staged, staged.with_name(staged.name + ".failed"))
        return False
    staged.unlink()
    log.info("database: restored from the staged backup")
    return True
