"""Unauthenticated websockets cannot hold the slots (issue 17 item 5): a JSON-RPC or push
socket that has not authenticated within the time allowed is closed; while waiting,
such sockets are few per address and never counted against the slots authenticated
clients use. The untrusted clients are bound to 127.0.0.2; 127.0.0.1 is trusted."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
import tornado.httpclient
import tornado.websocket

from components.access import AccessComponent
from gateway.transports.connection import UNAUTHENTICATED_PER_ADDRESS
from tests.harness import RunningServer, running_server, wait_for

CONFIG = """
[server]
host: 127.0.0.1
port: 0
max_websocket_connections: 5

[authorization]
trusted_clients:
  127.0.0.1/32
"""
TIMEOUT = 0.5


_clients: list[tornado.websocket.WebSocketClientConnection] = []


@pytest.fixture
async def srv(tmp_path: Path) -> AsyncIterator[RunningServer]:
    async with running_server(tmp_path, CONFIG) as running:
        running.server.connections.gate.timeout = TIMEOUT
        try:
            yield running
        finally:
            open_ones = [(c, c.protocol.stream) for c in _clients
                         if c.protocol is not None and not c.protocol.stream.closed()]
            streams = [stream for _, stream in open_ones]
            for conn in _clients:
                conn.close()
            for conn, _ in open_ones:
                # the client reads no frame (the server's close included) while a message
                # waits unread: read them all
                await closed_with(conn)
            await wait_for(lambda: all(s.closed() for s in streams), timeout=10,
                           what="closed sockets")
            _clients.clear()


async def connect(srv: RunningServer, path: str = "/websocket", source: str = "127.0.0.2",
                  headers: dict[str, str] | None = None
                  ) -> tornado.websocket.WebSocketClientConnection:
    request = tornado.httpclient.HTTPRequest(
        f"ws://127.0.0.1:{srv.port}{path}", network_interface=source, headers=headers or {})
    conn = await tornado.websocket.websocket_connect(request)
    _clients.append(conn)
    return conn


async def closed_with(conn: tornado.websocket.WebSocketClientConnection,
                      timeout: float = 10) -> int | None:
    """Read until the server closes; its close code."""
    async with asyncio.timeout(timeout):
        while await conn.read_message() is not None:
            pass
    return conn.close_code


async def call(conn: tornado.websocket.WebSocketClientConnection, method: str,
               params: Any = None) -> Any:
    await conn.write_message(msgspec.json.encode(
        {"jsonrpc": "2.0", "method": method, "params": params or {}, "id": 1}).decode())
    while True:
        message = await conn.read_message()
        assert message is not None, "closed"
        data = msgspec.json.decode(message)
        if data.get("id") == 1:
            return data


def api_key(srv: RunningServer) -> str:
    access = srv.server.components["access"]
    assert isinstance(access, AccessComponent)
    return access.control.api_key


async def test_a_socket_that_does_not_authenticate_in_time_is_closed(
    srv: RunningServer,
) -> None:
    idle = await connect(srv)
    push = await connect(srv, "/sockjs/websocket")
    assert await closed_with(idle) == 1008
    assert await closed_with(push) == 1008
    assert "Not authenticated within" in (idle.close_reason or "")


async def test_a_socket_that_authenticates_in_time_stays(srv: RunningServer) -> None:
    ws = await connect(srv)
    reply = await call(ws, "server.connection.identify", {
        "client_name": "t", "version": "1", "type": "web", "url": "http://x",
        "api_key": api_key(srv)})
    assert "result" in reply, reply
    push = await connect(srv, "/sockjs/websocket")
    await push.write_message(msgspec.json.encode({"auth": api_key(srv)}).decode())
    await asyncio.sleep(TIMEOUT * 3)  # past the deadline: both still served
    assert "result" in await call(ws, "server.info")
    assert push.close_code is None and ws.close_code is None


async def test_unauthenticated_sockets_cannot_take_the_trusted_clients_slots(
    srv: RunningServer,
) -> None:
    srv.server.connections.gate.timeout = 60  # they would all wait as long as they may
    attackers = []
    for path in ("/websocket", "/sockjs/websocket"):
        for _ in range(25):
            attackers.append(await connect(srv, path))
    # only a few wait; the rest were told to come back later
    await wait_for(lambda: sum(c.close_code is None for c in attackers)
                   <= UNAUTHENTICATED_PER_ADDRESS, what="refusals")
    refused = [c for c in attackers if c.close_code is not None]
    assert {c.close_code for c in refused} == {1013}
    assert len(srv.server.connections.gate) <= UNAUTHENTICATED_PER_ADDRESS
    # a trusted frontend gets every one of its slots
    trusted = [await connect(srv, source="127.0.0.1") for _ in range(5)]
    for ws in trusted:
        assert "result" in await call(ws, "server.info")
    # ... and the sixth is over the limit for everyone
    extra = await connect(srv, source="127.0.0.1")
    assert await closed_with(extra) == 1013
