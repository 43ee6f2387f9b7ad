"""Repeated failed logins from one address are slowed, then (max_login_attempts) stopped."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from components.access.clock import Clock
from components.access.throttle import LoginThrottle, TooManyAttempts
from gateway.errors import ServerError
from tests.access.conftest import UNTRUSTED_CONFIG, access_of, create_user, fetch_from, login
from tests.harness import RunningServer, running_server


async def test_failures_slow_down_one_address(
    srv: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    await create_user(srv)
    caplog.set_level(logging.WARNING, logger="components.access.throttle")
    for _ in range(3):
        assert (await login(srv, password="guess")).status == 401
    # now even the right password must wait
    reply = await login(srv)
    assert reply.status == 429
    assert "retry in" in reply.json()["error"]["message"]
    # other addresses are not held up
    reply = await fetch_from(srv, "/access/login", "127.0.0.2", method="POST",
                             json={"username": "alice", "password": "correct horse battery staple"})
    assert reply.status == 200
    access_of(srv).clock.advance(1.5)
    assert (await login(srv, password="guess")).status == 401
    access_of(srv).clock.advance(1.5)
    assert (await login(srv)).status == 429  # the wait doubled to 2 s
    access_of(srv).clock.advance(1.0)
    assert (await login(srv)).status == 200
    assert (await login(srv, password="guess")).status == 401  # success reset the count
    failures = [r for r in caplog.records if "failed login" in r.getMessage()]
    assert len(failures) == 5
    assert "127.0.0.1" in failures[0].getMessage()
    assert "guess" not in caplog.text  # never the password


async def test_max_login_attempts_locks_out(tmp_path: Path) -> None:
    async with running_server(tmp_path, UNTRUSTED_CONFIG + "max_login_attempts: 2\n") as srv:
        access_of(srv).clock.freeze()
        await create_user(srv)
        for _ in range(2):
            assert (await login(srv, password="guess")).status == 401
        reply = await login(srv)
        assert reply.status == 401
        assert reply.json()["error"]["message"] == "Unauthorized, Maximum Login Attempts Reached"
        access_of(srv).clock.advance(7200)
        assert (await login(srv)).status == 401


def test_throttle_unit() -> None:
    clock = Clock()
    clock.freeze()
    throttle = LoginThrottle(clock, None)
    for _ in range(3):
        throttle.attempt("2001:db8::1")
        throttle.failed("2001:db8::1", "x")
    # the same /64 shares the count
    with pytest.raises(TooManyAttempts):
        throttle.check("2001:db8::ffff")
    throttle.check("2001:db9::1")
    for _ in range(20):
        clock.advance(400)
        throttle.attempt("10.0.0.1")
        throttle.failed("10.0.0.1", "x")
    with pytest.raises(ServerError) as err:
        throttle.check("10.0.0.1")
    assert "300" in err.value.message  # capped
    clock.advance(3601)
    throttle.check("10.0.0.1")  # forgotten after an hour of quiet
