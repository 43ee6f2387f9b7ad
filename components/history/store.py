"""The history tables. Every function here runs on the database thread (`db.run`);
each change is one transaction, committed (synchronous=FULL) before it returns."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TypedDict

import msgspec

from components.history.jobs import IN_PROGRESS, INTERRUPTED, Job

JOBS = "history_jobs"
TOTALS = "history_totals"

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {JOBS} (
    job_id INTEGER PRIMARY KEY AUTOINCREMENT,
    user TEXT NOT NULL,
    filename TEXT NOT NULL,
    status TEXT NOT NULL,
    start_time REAL NOT NULL,
    end_time REAL,
    print_duration REAL NOT NULL,
    total_duration REAL NOT NULL,
    filament_used REAL NOT NULL,
    metadata BLOB NOT NULL,
    auxiliary_data BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS {TOTALS} (
    field TEXT PRIMARY KEY,
    value REAL NOT NULL
) WITHOUT ROWID;
"""

_COLUMNS = (
    "job_id, user, filename, status, start_time, end_time, print_duration, "
    "total_duration, filament_used, metadata, auxiliary_data"
)

# one SQL statement and its parameters
Statement = tuple[str, tuple[str | int | float | bytes | None, ...]]

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode

TOTAL_FIELDS = (
    "total_jobs",
    "total_time",
    "total_print_time",
    "total_filament_used",
    "longest_job",
    "longest_print",
)


class Totals(TypedDict):
    """server.history.totals' job_totals (seconds, millimetres)."""

    total_jobs: int
    total_time: float
    total_print_time: float
    total_filament_used: float
    longest_job: float
    longest_print: float


def empty_totals() -> Totals:
    return Totals(total_jobs=0, total_time=0.0, total_print_time=0.0,
                  total_filament_used=0.0, longest_job=0.0, longest_print=0.0)


@dataclass(slots=True)
class ListQuery:
    limit: int = 50
    start: int = 0
    before: float | None = None
    since: float | None = None
    descending: bool = True


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """BEGIN ... COMMIT on the autocommit connection; ROLLBACK on any error."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _in_transaction(
    conn: sqlite3.Connection, statements: list[Statement]
) -> None:
    with transaction(conn):
        for sql, params in statements:
            conn.execute(sql, params)


def setup(
    conn: sqlite3.Connection, keep: int | None = None
) -> tuple[Totals, list[int]]:
    """Create the tables, mark jobs left in progress by a crash as interrupted (but
    `keep`, a job still printing across a server restart). Returns the totals and the
    ids of the interrupted jobs."""
    conn.executescript(SCHEMA)
    rows = conn.execute(f"SELECT job_id FROM {JOBS} WHERE status = ?", (IN_PROGRESS,))
    interrupted = [r[0] for r in rows if r[0] != keep]
    if interrupted:
        _in_transaction(
            conn,
            [(f"UPDATE {JOBS} SET status = ? WHERE status = ? AND job_id IS NOT ?",
              (INTERRUPTED, IN_PROGRESS, keep))],
        )
    return load_totals(conn), interrupted


def load_totals(conn: sqlite3.Connection) -> Totals:
    rows = {str(name): float(value)
            for name, value in conn.execute(f"SELECT field, value FROM {TOTALS}")}
    return Totals(total_jobs=int(rows.get("total_jobs", 0)),
                  total_time=rows.get("total_time", 0.0),
                  total_print_time=rows.get("total_print_time", 0.0),
                  total_filament_used=rows.get("total_filament_used", 0.0),
                  longest_job=rows.get("longest_job", 0.0),
                  longest_print=rows.get("longest_print", 0.0))


def _totals_statements(totals: Totals) -> list[Statement]:
    sql = f"INSERT OR REPLACE INTO {TOTALS} (field, value) VALUES (?, ?)"
    return [(sql, (name, float(value))) for name, value in totals.items()
            if isinstance(value, int | float)]


def load_auxiliary_totals(conn: sqlite3.Connection) -> dict[str, float]:
    """Rows of auxiliary totals (components/history/auxiliary.py keys)."""
    return {name: float(value) for name, value in
            conn.execute(f"SELECT field, value FROM {TOTALS} WHERE field LIKE 'aux%'")
            if name not in TOTAL_FIELDS}


def _auxiliary_statements(aux: dict[str, float]) -> list[Statement]:
    sql = f"INSERT OR REPLACE INTO {TOTALS} (field, value) VALUES (?, ?)"
    return [(sql, (name, value)) for name, value in aux.items()]


def save_auxiliary_totals(conn: sqlite3.Connection, aux: dict[str, float]) -> None:
    """Replace every auxiliary total row with `aux`."""
    clear = (f"DELETE FROM {TOTALS} WHERE field LIKE 'aux%'", ())
    _in_transaction(conn, [clear, *_auxiliary_statements(aux)])


def insert_job(conn: sqlite3.Connection, job: Job) -> int:
    cursor = conn.execute(
        f"INSERT INTO {JOBS} ({_COLUMNS}) VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            job.user,
            job.filename,
            job.status,
            job.start_time,
            job.end_time,
            job.print_duration,
            job.total_duration,
            job.filament_used,
            _encode(job.metadata),
            _encode(job.auxiliary_data),
        ),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def finish_job(conn: sqlite3.Connection, job: Job, totals: Totals,
               aux: dict[str, float] | None = None) -> None:
    """The finished job and the new totals, in one transaction."""
    update = (
        f"UPDATE {JOBS} SET user = ?, status = ?, end_time = ?, print_duration = ?, "
        "total_duration = ?, filament_used = ?, metadata = ?, auxiliary_data = ? "
        "WHERE job_id = ?",
        (
            job.user,
            job.status,
            job.end_time,
            job.print_duration,
            job.total_duration,
            job.filament_used,
            _encode(job.metadata),
            _encode(job.auxiliary_data),
            job.number,
        ),
    )
    _in_transaction(conn, [update, *_totals_statements(totals),
                           *_auxiliary_statements(aux or {})])


def save_totals(conn: sqlite3.Connection, totals: Totals) -> None:
    _in_transaction(conn, _totals_statements(totals))


def _row_to_job(row: tuple[Any, ...]) -> Job:
    metadata = _decode(row[9])
    aux = _decode(row[10])
    return Job(
        number=row[0],
        user=row[1],
        filename=row[2],
        status=row[3],
        start_time=row[4],
        end_time=row[5],
        print_duration=row[6],
        total_duration=row[7],
        filament_used=row[8],
        metadata=metadata if isinstance(metadata, dict) else {},
        auxiliary_data=aux if isinstance(aux, list) else [],
    )


def get_job(conn: sqlite3.Connection, number: int) -> Job | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM {JOBS} WHERE job_id = ?", (number,)).fetchone()
    return None if row is None else _row_to_job(row)


def list_jobs(conn: sqlite3.Connection, query: ListQuery) -> list[Job]:
    sql = f"SELECT {_COLUMNS} FROM {JOBS}"
    where: list[str] = []
    params: list[object] = []
    if query.before is not None:
        where.append("end_time < ?")
        params.append(query.before)
    if query.since is not None:
        where.append("start_time > ?")
        params.append(query.since)
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY job_id " + ("DESC" if query.descending else "ASC")
    sql += " LIMIT ? OFFSET ?"
    params += [query.limit if query.limit > 0 else -1, max(0, query.start)]
    return [_row_to_job(row) for row in conn.execute(sql, params)]


def delete_job(conn: sqlite3.Connection, number: int) -> bool:
    with transaction(conn):
        cursor = conn.execute(f"DELETE FROM {JOBS} WHERE job_id = ?", (number,))
    return cursor.rowcount > 0


def delete_all(conn: sqlite3.Connection) -> list[int]:
    with transaction(conn):
        numbers = [r[0] for r in conn.execute(f"SELECT job_id FROM {JOBS} ORDER BY job_id")]
        conn.execute(f"DELETE FROM {JOBS}")
    return numbers
