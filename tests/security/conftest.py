"""A real server (with the fast virtual printer) that trusts only 127.0.0.1: clients bound
to 127.0.0.2 are the untrusted peer of issue 17's review."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
import tornado.httpclient
import tornado.websocket

from components.access import AccessComponent
from tests.harness import HttpReply, RunningServer, running_server, wait_for
from tests.printer.conftest import printer_of

UNTRUSTED_IP = "127.0.0.2"

SECURITY_CONFIG = """
[server]
host: 127.0.0.1
port: 0

[authorization]
trusted_clients:
  127.0.0.1

[serial]
port: virtual
virtual_time_scale: 25
"""


def access_of(srv: RunningServer) -> AccessComponent:
    component = srv.server.components["access"]
    assert isinstance(component, AccessComponent)
    return component


def key_headers(srv: RunningServer) -> dict[str, str]:
    return {"X-Api-Key": access_of(srv).control.api_key}


@pytest.fixture
async def srv(tmp_path: Path) -> AsyncIterator[RunningServer]:
    async with running_server(tmp_path / "data", SECURITY_CONFIG) as running:
        printer = printer_of(running)
        await wait_for(lambda: printer.state == "ready", what="printer ready")
        yield running


async def fetch_from(srv: RunningServer, path: str, source_ip: str = UNTRUSTED_IP, *,
                     method: str = "GET", headers: dict[str, str] | None = None,
                     json: Any = None, body: bytes | None = None) -> HttpReply:
    """A request from another loopback address (the server sees a different client)."""
    client = tornado.httpclient.AsyncHTTPClient(force_instance=True)
    hdrs = dict(headers or {})
    if json is not None:
        hdrs.setdefault("Content-Type", "application/json")
        body = msgspec.json.encode(json)
    if body is None and method in ("POST", "PUT"):
        body = b""
    try:
        request = tornado.httpclient.HTTPRequest(
            srv.base + path, method=method, headers=hdrs, body=body,
            network_interface=source_ip, request_timeout=30,
            allow_nonstandard_methods=True,
        )
        resp = await client.fetch(request, raise_error=False)
    finally:
        client.close()
    return HttpReply(resp.code, resp.body or b"", dict(resp.headers.get_all()))


def multipart(fields: dict[str, str], filename: str, content: bytes,
              field: str = "file") -> tuple[bytes, dict[str, str]]:
    """A multipart/form-data body the way browsers send uploads."""
    boundary = "----skysailtestboundary7MA4YWxk"
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"'
                     f"\r\n\r\n{value}\r\n".encode())
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; '
                 f'filename="{filename}"\r\nContent-Type: application/octet-stream'
                 f"\r\n\r\n".encode() + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), {"Content-Type": f"multipart/form-data; boundary={boundary}"}


async def websocket_from(srv: RunningServer, source_ip: str = UNTRUSTED_IP,
                         headers: dict[str, str] | None = None,
                         query: str = "") -> tornado.websocket.WebSocketClientConnection:
    request = tornado.httpclient.HTTPRequest(
        srv.ws_url + query, headers=headers or {}, network_interface=source_ip)
    return await tornado.websocket.websocket_connect(request)
