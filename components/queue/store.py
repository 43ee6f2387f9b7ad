"""The queue's tables in the server's SQLite database.

`save(old, new)` writes only what changed between two states, in one transaction, on
the database thread; the adapter awaits it before answering or acting, so everything
acknowledged is on disk (the database runs with synchronous=FULL).
"""

from __future__ import annotations

import dataclasses
import sqlite3

import msgspec

from gateway.database import Database

from .model import QueueJob, QueueSet, QueueState, Run

SCHEMA = """
CREATE TABLE IF NOT EXISTS queue_jobs (
    id INTEGER PRIMARY KEY,
    rank INTEGER NOT NULL,
    name TEXT NOT NULL,
    count INTEGER NOT NULL,
    remaining INTEGER NOT NULL,
    draft INTEGER NOT NULL,
    created REAL NOT NULL,
    origin TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS queue_sets (
    id INTEGER PRIMARY KEY,
    job_id INTEGER NOT NULL,
    rank INTEGER NOT NULL,
    path TEXT NOT NULL,
    count INTEGER NOT NULL,
    remaining INTEGER NOT NULL,
    completed INTEGER NOT NULL,
    sd INTEGER NOT NULL,
    materials TEXT NOT NULL,
    profiles TEXT NOT NULL,
    failed TEXT,
    added REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS queue_sets_job ON queue_sets (job_id);
CREATE TABLE IF NOT EXISTS queue_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode

# the state's fields kept across restarts (active, phase, notice are not: the queue
# always starts paused)
_META = ("next_id", "run", "interrupted", "external")


def _meta_value(state: QueueState, key: str) -> object:
    value = getattr(state, key)
    if isinstance(value, Run):
        return dataclasses.asdict(value)
    if key == "external":
        return dict(value)
    return value


def _run(value: object) -> Run | None:
    if not isinstance(value, dict):
        return None
    return Run(**value)


class QueueStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def load(self) -> QueueState:
        return await self.db.run(_load)

    async def save(self, old: QueueState, new: QueueState) -> None:
        if not changed(old, new):
            return
        await self.db.run(lambda conn: _save(conn, old, new))


def changed(old: QueueState, new: QueueState) -> bool:
    return old.jobs != new.jobs or any(
        getattr(old, key) != getattr(new, key) for key in _META
    )


def _load(conn: sqlite3.Connection) -> QueueState:
    conn.executescript(SCHEMA)
    sets: dict[int, list[QueueSet]] = {}
    for row in conn.execute(
        "SELECT id, job_id, path, count, remaining, completed, sd, materials, profiles,"
        " failed, added FROM queue_sets ORDER BY job_id, rank"
    ):
        sets.setdefault(row[1], []).append(QueueSet(
            id=row[0], path=row[2], count=row[3], remaining=row[4], completed=row[5],
            sd=bool(row[6]), materials=tuple(_decode(row[7])),
            profiles=tuple(_decode(row[8])), failed=row[9], added=row[10],
        ))
    jobs = tuple(
        QueueJob(id=row[0], name=row[1], count=row[2], remaining=row[3], draft=bool(row[4]),
                 created=row[5], origin=row[6], sets=tuple(sets.get(row[0], ())))
        for row in conn.execute(
            "SELECT id, name, count, remaining, draft, created, origin FROM queue_jobs"
            " ORDER BY rank"
        )
    )
    meta = {k: _decode(v) for k, v in conn.execute("SELECT key, value FROM queue_meta")}
    ids = [j.id for j in jobs] + [x.id for j in jobs for x in j.sets]
    highest = max(ids, default=0)
    external = meta.get("external")
    return QueueState(
        jobs=jobs,
        next_id=max(int(meta.get("next_id", 1)), highest + 1),
        run=_run(meta.get("run")),
        interrupted=_run(meta.get("interrupted")),
        external=external if isinstance(external, dict) else {},
    )


def _save(conn: sqlite3.Connection, old: QueueState, new: QueueState) -> None:
    old_jobs = {j.id: (rank, j) for rank, j in enumerate(old.jobs)}
    new_ids = {j.id for j in new.jobs}
    conn.execute("BEGIN")
    try:
        for job_id in old_jobs.keys() - new_ids:
            conn.execute("DELETE FROM queue_jobs WHERE id = ?", (job_id,))
            conn.execute("DELETE FROM queue_sets WHERE job_id = ?", (job_id,))
        for rank, job in enumerate(new.jobs):
            before = old_jobs.get(job.id)
            if before == (rank, job):
                continue
            conn.execute(
                "INSERT OR REPLACE INTO queue_jobs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (job.id, rank, job.name, job.count, job.remaining, int(job.draft),
                 job.created, job.origin),
            )
            if before is not None and before[1].sets == job.sets:
                continue
            conn.execute("DELETE FROM queue_sets WHERE job_id = ?", (job.id,))
            conn.executemany(
                "INSERT INTO queue_sets VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(s.id, job.id, i, s.path, s.count, s.remaining, s.completed, int(s.sd),
                  _encode(list(s.materials)).decode(), _encode(list(s.profiles)).decode(),
                  s.failed, s.added) for i, s in enumerate(job.sets)],
            )
        for key in _META:
            if getattr(old, key) != getattr(new, key):
                conn.execute(
                    "INSERT OR REPLACE INTO queue_meta VALUES (?, ?)",
                    (key, _encode(_meta_value(new, key)).decode()),
                )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
