"""A real server whose trusted clients exclude the test client (127.0.0.1), and helpers
to talk to it with and without credentials."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
import tornado.httpclient

from components.access import AccessComponent
from tests.harness import HttpReply, RunningServer, running_server

UNTRUSTED_CONFIG = """
[server]
host: 127.0.0.1
port: 0

[authorization]
trusted_clients:
  10.99.0.0/16
cors_domains:
  https://app.example.com
  http://*.printers.lan
"""

PASSWORD = "correct horse battery staple"


@pytest.fixture
async def srv(tmp_path: Path) -> AsyncIterator[RunningServer]:
    async with running_server(tmp_path, UNTRUSTED_CONFIG) as running:
        # expiries are then exact, however slowly a loaded machine runs the test
        access_of(running).clock.freeze()
        yield running


def access_of(srv: RunningServer) -> AccessComponent:
    component = srv.server.components["access"]
    assert isinstance(component, AccessComponent)
    return component


def key_headers(srv: RunningServer) -> dict[str, str]:
    return {"X-Api-Key": access_of(srv).control.api_key}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def create_user(srv: RunningServer, username: str = "alice",
                      password: str = PASSWORD) -> dict[str, Any]:
    reply = await srv.http.post("/access/user", json={"username": username,
                                                      "password": password},
                                headers=key_headers(srv))
    assert reply.status == 200, reply.body
    result: dict[str, Any] = reply.json()["result"]
    return result


async def login(srv: RunningServer, username: str = "alice",
                password: str = PASSWORD) -> HttpReply:
    return await srv.http.post("/access/login", json={"username": username,
                                                      "password": password})


async def fetch_from(srv: RunningServer, path: str, source_ip: str,
                     headers: dict[str, str] | None = None, method: str = "GET",
                     json: Any = None) -> HttpReply:
    """A request from another loopback address (the server sees a different client)."""
    client = tornado.httpclient.AsyncHTTPClient(force_instance=True)
    headers = dict(headers or {})
    if json is not None:
        headers["Content-Type"] = "application/json"
    try:
        request = tornado.httpclient.HTTPRequest(
            srv.base + path, headers=headers, network_interface=source_ip,
            request_timeout=30, method=method,
            body=None if json is None else msgspec.json.encode(json),
        )
        resp = await client.fetch(request, raise_error=False)
    finally:
        client.close()
    return HttpReply(resp.code, resp.body or b"", dict(resp.headers.get_all()))


UNAUTHORIZED = {"error": {"code": 401, "message": "Unauthorized"}}
