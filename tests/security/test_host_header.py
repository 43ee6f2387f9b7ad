"""Issue 17.2: DNS rebinding. A web page whose name re-resolves to the printer's
address talks to it with `Host: <that name>`. Address trust (and trusted websocket
upgrades) is granted only for a Host that is an IP literal, `localhost`, this host's
own names or a name in `[server] hostnames`; anything else gets 403 naming the option."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import tornado.httpclient
import tornado.websocket

from tests.harness import RunningServer, running_server
from tests.security.conftest import key_headers, multipart

CONFIG = """
[server]
host: 127.0.0.1
port: 0
hostnames:
  printer.lan
  Voron.Example.COM.

[authorization]
trusted_clients:
  127.0.0.1
"""


@pytest.fixture
async def srv(tmp_path: Path) -> AsyncIterator[RunningServer]:
    async with running_server(tmp_path / "data", CONFIG) as running:
        yield running


async def get(srv: RunningServer, host: str, path: str = "/server/info",
              source_ip: str = "127.0.0.1", **headers: str) -> tornado.httpclient.HTTPResponse:
    return await fetch_from_host(srv, host, path, source_ip, headers)


async def fetch_from_host(srv: RunningServer, host: str, path: str, source_ip: str,
                          headers: dict[str, str]) -> tornado.httpclient.HTTPResponse:
    client = tornado.httpclient.AsyncHTTPClient(force_instance=True)
    try:
        request = tornado.httpclient.HTTPRequest(
            srv.base + path, headers={"Host": host, **headers},
            network_interface=source_ip, request_timeout=30)
        return await client.fetch(request, raise_error=False)
    finally:
        client.close()


async def test_a_rebound_name_gets_no_address_trust(srv: RunningServer) -> None:
    port = srv.port
    for host in (f"evil.example:{port}", "evil.example", f"127.0.0.1.nip.io:{port}",
                 f"localhost.evil.example:{port}"):
        reply = await get(srv, host)
        assert reply.code == 403, host
        assert b"[server] hostnames" in reply.body
    # a rebinding page is "same origin" with its own name: still refused
    reply = await get(srv, f"evil.example:{port}", Origin=f"http://evil.example:{port}")
    assert reply.code == 403
    # and it cannot send G-code either
    client = tornado.httpclient.AsyncHTTPClient(force_instance=True)
    try:
        reply = await client.fetch(tornado.httpclient.HTTPRequest(
            srv.base + "/printer/gcode/script?script=M117%20pwned", method="POST", body=b"",
            headers={"Host": f"evil.example:{port}"}), raise_error=False)
    finally:
        client.close()
    assert reply.code == 403
    # nor change files: the config stays as it was, no upload lands
    conf = srv.server.data_dir / "config" / "moonraker.conf"
    before = conf.read_bytes()
    body, headers = multipart({"root": "config"}, "moonraker.conf", b"[web]\npath: /\n")
    for method, path, payload, extra in (
            ("DELETE", "/server/files/config/moonraker.conf", None, {}),
            ("POST", "/server/files/upload", body, headers)):
        client = tornado.httpclient.AsyncHTTPClient(force_instance=True)
        try:
            reply = await client.fetch(tornado.httpclient.HTTPRequest(
                srv.base + path, method=method, body=payload,
                headers={"Host": f"evil.example:{port}", **extra}), raise_error=False)
        finally:
            client.close()
        assert reply.code == 403, (method, path)
    assert conf.read_bytes() == before
    assert sorted(p.name for p in conf.parent.iterdir()) == ["moonraker.conf"]
    # access.info (public) answers, and does not claim trust
    reply = await get(srv, f"evil.example:{port}", "/access/info")
    assert reply.code == 200 and b'"trusted":false' in reply.body


async def test_ip_literals_localhost_own_names_and_listed_names_are_fine(
        srv: RunningServer) -> None:
    port = srv.port
    own = socket.gethostname()
    for host in (f"127.0.0.1:{port}", "127.0.0.1", f"[::1]:{port}", f"localhost:{port}",
                 f"LOCALHOST:{port}", f"{own}:{port}", f"{own}.local:{port}",
                 f"printer.lan:{port}", "PRINTER.LAN", f"voron.example.com.:{port}",
                 f"voron.example.com:{port}"):
        reply = await get(srv, host)
        assert reply.code == 200, (host, reply.body)


async def test_credentials_do_not_depend_on_the_host_name(srv: RunningServer) -> None:
    reply = await get(srv, f"evil.example:{srv.port}", **key_headers(srv))
    assert reply.code == 200
    # an untrusted peer without credentials gets the usual 401, not a hint
    reply = await get(srv, f"evil.example:{srv.port}", source_ip="127.0.0.2")
    assert reply.code == 401


async def test_trusted_websocket_upgrade_with_a_rebound_name_is_refused(
        srv: RunningServer) -> None:
    request = tornado.httpclient.HTTPRequest(
        srv.ws_url, headers={"Host": f"evil.example:{srv.port}"})
    with pytest.raises(tornado.httpclient.HTTPClientError) as err:
        await tornado.websocket.websocket_connect(request)
    assert err.value.code == 403
    ok = tornado.httpclient.HTTPRequest(srv.ws_url, headers={"Host": f"printer.lan:{srv.port}"})
    conn = await tornado.websocket.websocket_connect(ok)
    conn.close()

