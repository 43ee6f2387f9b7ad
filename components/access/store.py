"""Persistence of the access component: users, secrets (API key, JWT signing key) and
login sessions, in tables of their own in the server database.

They are deliberately not Moonraker-style namespaces: `server.database.*` cannot read
them, so password hashes and the signing key never leave the server.
"""

from __future__ import annotations

import secrets
import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gateway.database import Database

_SCHEMA = """
CREATE TABLE IF NOT EXISTS access_users (
    username TEXT PRIMARY KEY NOT NULL,
    password TEXT NOT NULL,
    source TEXT NOT NULL,
    created_on REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS access_secrets (
    name TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS access_sessions (
    sid TEXT PRIMARY KEY NOT NULL,
    username TEXT NOT NULL,
    expires_on REAL NOT NULL
);
"""


@dataclass(slots=True)
class StoredUser:
    username: str
    password: str
    source: str
    created_on: float


@dataclass(slots=True)
class StoredSession:
    sid: str
    username: str
    expires_on: float


@dataclass(slots=True)
class Snapshot:
    users: list[StoredUser]
    sessions: list[StoredSession]
    api_key: str
    jwt_secret: str


def new_api_key() -> str:
    return secrets.token_hex(16)


class AccessStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def load(self, now: float) -> Snapshot:
        """Create the tables if needed, drop expired sessions, make missing secrets."""
        return await self.db.run(lambda conn: _load(conn, now))

    async def put_user(self, user: StoredUser) -> None:
        await self.db.run(
            lambda c: c.execute(
                "REPLACE INTO access_users VALUES (?, ?, ?, ?)",
                (user.username, user.password, user.source, user.created_on),
            )
        )

    async def delete_user(self, username: str) -> None:
        def run(conn: sqlite3.Connection) -> None:
            conn.execute("BEGIN")
            conn.execute("DELETE FROM access_users WHERE username = ?", (username,))
            conn.execute("DELETE FROM access_sessions WHERE username = ?", (username,))
            conn.execute("COMMIT")

        await self.db.run(run)

    async def put_secret(self, name: str, value: str) -> None:
        await self.db.run(
            lambda c: c.execute("REPLACE INTO access_secrets VALUES (?, ?)", (name, value))
        )

    async def put_session(self, session: StoredSession) -> None:
        await self.db.run(
            lambda c: c.execute(
                "INSERT INTO access_sessions VALUES (?, ?, ?)",
                (session.sid, session.username, session.expires_on),
            )
        )

    async def delete_sessions(self, sids: list[str]) -> None:
        if sids:
            await self.db.run(
                lambda c: c.executemany(
                    "DELETE FROM access_sessions WHERE sid = ?", [(s,) for s in sids]
                )
            )


def _secret(conn: sqlite3.Connection, name: str, make: str) -> str:
    row = conn.execute("SELECT value FROM access_secrets WHERE name = ?", (name,)).fetchone()
    if row is not None:
        return str(row[0])
    conn.execute("INSERT INTO access_secrets VALUES (?, ?)", (name, make))
    return make


def _load(conn: sqlite3.Connection, now: float) -> Snapshot:
    conn.executescript(_SCHEMA)
    conn.execute("DELETE FROM access_sessions WHERE expires_on <= ?", (now,))
    users = [
        StoredUser(str(u), str(p), str(s), float(c))
        for u, p, s, c in conn.execute("SELECT username, password, source, created_on "
                                       "FROM access_users")
    ]
    sessions = [
        StoredSession(str(s), str(u), float(e))
        for s, u, e in conn.execute("SELECT sid, username, expires_on FROM access_sessions")
    ]
    api_key = _secret(conn, "api_key", new_api_key())
    jwt_secret = _secret(conn, "jwt_secret", secrets.token_hex(32))
    return Snapshot(users, sessions, api_key, jwt_secret)
