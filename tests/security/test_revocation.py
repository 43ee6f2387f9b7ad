"""Issue 17.7: OctoPrint `/api/login` sessions and the push channel's `auth` end at once
on logout, password change, user deletion and API-key regeneration; open push sockets
are told to authenticate again and closed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import tornado.httpclient
import tornado.websocket

from tests.harness import RunningServer, running_server, wait_for
from tests.octoprint.conftest import Push
from tests.security.conftest import UNTRUSTED_IP, access_of, fetch_from, key_headers

CONFIG = """
[server]
host: 127.0.0.1
port: 0

[authorization]
trusted_clients:
  127.0.0.1
"""
PASSWORD = "correct horse battery staple"


@pytest.fixture
async def srv(tmp_path: Path) -> AsyncIterator[RunningServer]:
    async with running_server(tmp_path / "data", CONFIG) as running:
        reply = await running.http.post("/access/user", json={"username": "alice",
                                                              "password": PASSWORD})
        assert reply.status == 200, reply.body
        yield running


async def octo_login(srv: RunningServer, body: dict[str, Any],
                     headers: dict[str, str] | None = None) -> dict[str, Any]:
    reply = await fetch_from(srv, "/api/login", method="POST", json=body, headers=headers)
    assert reply.status == 200, reply.body
    result: dict[str, Any] = reply.json()
    return result


async def push_from_untrusted(srv: RunningServer, auth: str) -> Push:
    request = tornado.httpclient.HTTPRequest(f"ws://127.0.0.1:{srv.port}/sockjs/websocket",
                                             network_interface=UNTRUSTED_IP)
    push = Push(await tornado.websocket.websocket_connect(request))
    await push.wait_for("connected")
    await push.send({"auth": auth})
    await push.wait_for("history")
    return push


async def assert_cut_off(srv: RunningServer, push: Push, auth: str) -> None:
    """The socket was told and closed; its session no longer authenticates anybody."""
    await push.wait_for("reauthRequired")
    await wait_for(lambda: push.conn.close_code is not None, what="the push socket closed")
    assert push.conn.close_code == 1008
    await push.close()
    again = await push_from_untrusted_unauthenticated(srv)
    try:
        await again.send({"auth": auth})
        assert (await again.wait_for("reauthRequired"))["reason"] == "stale"
        assert "history" not in again.kinds()
    finally:
        await again.close()


async def push_from_untrusted_unauthenticated(srv: RunningServer) -> Push:
    request = tornado.httpclient.HTTPRequest(f"ws://127.0.0.1:{srv.port}/sockjs/websocket",
                                             network_interface=UNTRUSTED_IP)
    push = Push(await tornado.websocket.websocket_connect(request))
    await push.wait_for("connected")
    return push


async def test_api_key_regeneration_ends_octoprint_sessions(srv: RunningServer) -> None:
    old_key = key_headers(srv)
    record = await octo_login(srv, {"passive": True}, headers=old_key)
    auth = f"{record['name']}:{record['session']}"
    push = await push_from_untrusted(srv, auth)
    key_auth = await push_from_untrusted(srv, old_key["X-Api-Key"])  # {"auth": "<key>"}
    reply = await srv.http.post("/access/api_key")  # trusted 127.0.0.1 regenerates it
    assert reply.status == 200
    await assert_cut_off(srv, push, auth)
    await assert_cut_off(srv, key_auth, old_key["X-Api-Key"])
    reply = await fetch_from(srv, "/api/login", method="POST", json={"passive": True},
                             headers=old_key)
    assert reply.status in (401, 403)


async def test_password_change_ends_the_users_other_octoprint_sessions(
        srv: RunningServer) -> None:
    record = await octo_login(srv, {"user": "alice", "pass": PASSWORD})
    assert record["_login_mechanism"] == "password"
    auth = f"alice:{record['session']}"
    push = await push_from_untrusted(srv, auth)
    token = (await fetch_from(srv, "/access/login", method="POST",
                              json={"username": "alice", "password": PASSWORD})).json()
    reply = await fetch_from(srv, "/access/user/password", method="POST",
                             headers={"Authorization": f"Bearer {token['result']['token']}"},
                             json={"password": PASSWORD, "new_password": "new one"})
    assert reply.status == 200, reply.body
    await assert_cut_off(srv, push, auth)


async def test_user_deletion_ends_their_octoprint_sessions(srv: RunningServer) -> None:
    record = await octo_login(srv, {"user": "alice", "pass": PASSWORD})
    auth = f"alice:{record['session']}"
    push = await push_from_untrusted(srv, auth)
    reply = await srv.http.delete("/access/user?username=alice")
    assert reply.status == 200, reply.body
    await assert_cut_off(srv, push, auth)


async def test_logout_ends_the_octoprint_sessions_of_that_login(srv: RunningServer) -> None:
    login = (await fetch_from(srv, "/access/login", method="POST",
                              json={"username": "alice", "password": PASSWORD})).json()
    bearer = {"Authorization": f"Bearer {login['result']['token']}"}
    record = await octo_login(srv, {"passive": True}, headers=bearer)
    auth = f"alice:{record['session']}"
    push = await push_from_untrusted(srv, auth)
    # another login of alice's is not affected
    other = await octo_login(srv, {"user": "alice", "pass": PASSWORD})
    other_push = await push_from_untrusted(srv, f"alice:{other['session']}")
    reply = await fetch_from(srv, "/access/logout", method="POST", headers=bearer)
    assert reply.status == 200, reply.body
    await assert_cut_off(srv, push, auth)
    assert other_push.conn.close_code is None
    await other_push.close()


async def test_octoprint_logout_ends_the_callers_push_sessions(srv: RunningServer) -> None:
    key = key_headers(srv)
    record = await octo_login(srv, {"passive": True}, headers=key)
    auth = f"{record['name']}:{record['session']}"
    reply = await fetch_from(srv, "/api/logout", method="POST", headers=key)
    assert reply.status == 200, reply.body
    again = await push_from_untrusted_unauthenticated(srv)
    try:
        await again.send({"auth": auth})
        assert (await again.wait_for("reauthRequired"))["reason"] == "stale"
    finally:
        await again.close()
    assert access_of(srv).control.api_key == key["X-Api-Key"]  # the key itself still works
