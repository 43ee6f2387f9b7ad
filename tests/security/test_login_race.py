"""Issue 17.6: parallel password guesses are counted before the (slow) password check,
so 40 guesses sent at once from one untrusted address get at most the free attempts
checked — the rest 429 — for logins and password changes alike; the password stays."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from components.access.throttle import FREE_FAILURES
from tests.harness import RunningServer, running_server
from tests.security.conftest import UNTRUSTED_IP, fetch_from

CONFIG = """
[server]
host: 127.0.0.1
port: 0

[authorization]
trusted_clients:
  127.0.0.1
"""
USER, PASSWORD = "maker", "correct horse battery"
GUESSES = 40


@pytest.fixture
async def srv(tmp_path: Path) -> AsyncIterator[RunningServer]:
    async with running_server(tmp_path / "data", CONFIG) as running:
        created = await fetch_from(running, "/access/user", "127.0.0.1", method="POST",
                                   json={"username": USER, "password": PASSWORD})
        assert created.status == 200, created.body
        yield running


async def login(srv: RunningServer, password: str, ip: str = UNTRUSTED_IP) -> int:
    reply = await fetch_from(srv, "/access/login", ip, method="POST",
                             json={"username": USER, "password": password})
    return reply.status


async def test_parallel_login_guesses_get_only_the_free_checks(srv: RunningServer) -> None:
    passwords = [f"guess-{n}" for n in range(GUESSES - 1)] + [PASSWORD]
    statuses = Counter(await asyncio.gather(*(login(srv, p) for p in passwords)))
    checked = statuses[401] + statuses[200]
    assert checked <= FREE_FAILURES, statuses
    assert statuses[429] == GUESSES - checked, statuses
    # the right password among them earned nothing beyond its own check, and the
    # address stays slowed down
    assert await login(srv, PASSWORD) == 429
    # other addresses are not punished for it
    assert await login(srv, PASSWORD, "127.0.0.1") == 200


async def test_parallel_password_change_guesses_get_only_the_free_checks(
        srv: RunningServer) -> None:
    reply = await fetch_from(srv, "/access/login", method="POST",
                             json={"username": USER, "password": PASSWORD})
    assert reply.status == 200
    token = reply.json()["result"]["token"]
    headers = {"Authorization": f"Bearer {token}"}

    async def change(old: str) -> int:
        reply = await fetch_from(srv, "/access/user/password", method="POST",
                                 headers=headers,
                                 json={"password": old, "new_password": "owned by me"})
        return reply.status

    statuses = Counter(await asyncio.gather(
        *(change(f"guess-{n}") for n in range(GUESSES))))
    assert statuses[400] <= FREE_FAILURES, statuses
    assert statuses[429] == GUESSES - statuses[400], statuses
    # the password did not change
    assert await login(srv, PASSWORD, "127.0.0.1") == 200
    assert await login(srv, "owned by me", "127.0.0.1") == 401
