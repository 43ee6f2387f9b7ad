"""CORS for listed origins only; forwarding headers only from a trusted proxy."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.access.conftest import UNAUTHORIZED, access_of, key_headers
from tests.harness import RunningServer, running_server

PREFLIGHT = {"Access-Control-Request-Method": "POST",
             "Access-Control-Request-Headers": "x-api-key"}


async def test_preflight_for_listed_origins(srv: RunningServer) -> None:
    for origin in ("https://app.example.com", "http://octo.printers.lan",
                   "http://a.b.printers.lan"):
        for path in ("/server/info", "/server/jsonrpc"):
            reply = await srv.http.request("OPTIONS", path,
                                           headers={"Origin": origin, **PREFLIGHT})
            assert reply.status == 204, (origin, path)
            assert reply.headers["Access-Control-Allow-Origin"] == origin
            assert reply.headers["Access-Control-Allow-Credentials"] == "true"
            assert "POST" in reply.headers["Access-Control-Allow-Methods"]
            assert "X-Api-Key" in reply.headers["Access-Control-Allow-Headers"]


async def test_no_cors_for_other_origins(srv: RunningServer) -> None:
    for origin in ("https://evil.example.net", "http://app.example.com",
                   "https://app.example.com.evil.net", "http://printers.lan.evil.net",
                   "null"):
        reply = await srv.http.request("OPTIONS", "/server/info",
                                       headers={"Origin": origin, **PREFLIGHT})
        assert "Access-Control-Allow-Origin" not in reply.headers, origin
        assert "Access-Control-Allow-Credentials" not in reply.headers
        reply = await srv.http.get("/server/info", headers={"Origin": origin,
                                                            **key_headers(srv)})
        assert "Access-Control-Allow-Origin" not in reply.headers


async def test_cors_headers_on_answers_and_errors(srv: RunningServer) -> None:
    origin = {"Origin": "https://app.example.com"}
    reply = await srv.http.get("/server/info", headers={**origin, **key_headers(srv)})
    assert reply.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert "Access-Control-Allow-Methods" not in reply.headers
    reply = await srv.http.get("/server/info", headers=origin)
    assert reply.status == 401
    assert reply.headers["Access-Control-Allow-Origin"] == "https://app.example.com"


async def test_unsafe_cors_domains_are_refused_with_a_warning(tmp_path: Path) -> None:
    config = """
[server]
host: 127.0.0.1
port: 0
[authorization]
cors_domains:
  http://printer.*
  https://*.lan.*
  http://ok.lan/
"""
    async with running_server(tmp_path, config) as srv:
        assert access_of(srv).control.cors.patterns == []
        assert access_of(srv).control.cors.any_origin is False
        warnings = "\n".join(srv.server.warnings)
        assert "Unsafe domain 'http://printer.*'" in warnings
        assert "https://*.lan.*" in warnings and "http://ok.lan/" in warnings


ANY_ORIGIN = """
[server]
host: 127.0.0.1
port: 0
[authorization]
trusted_clients:
  127.0.0.1
cors_domains:
  *
"""


async def test_cors_star_allows_every_origin_as_moonraker(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """`cors_domains: *` (Moonraker accepts it): any page may call, without credentials
    mode; a warning in the log names the risk, server.info stays clean."""
    async with running_server(tmp_path, ANY_ORIGIN) as srv:
        assert access_of(srv).control.cors.any_origin is True
        assert srv.server.warnings == []
        assert "cors_domains: * lets every web page call the API" in caplog.text
        for origin in ("https://evil.example.net", "http://anything.lan:8080", "null"):
            reply = await srv.http.request("OPTIONS", "/server/info",
                                           headers={"Origin": origin, **PREFLIGHT})
            assert reply.status == 204
            assert reply.headers["Access-Control-Allow-Origin"] == origin
            assert "Access-Control-Allow-Credentials" not in reply.headers
            assert "X-Api-Key" in reply.headers["Access-Control-Allow-Headers"]
            # a trusted browser's page from that origin is served (the documented risk)
            reply = await srv.http.post("/server/logs/rollover", headers={"Origin": origin})
            assert reply.status == 200, origin
            assert reply.headers["Access-Control-Allow-Origin"] == origin
        ws = await srv.websocket({"Origin": "https://evil.example.net"})
        assert (await ws.call("server.websocket.id"))["websocket_id"] > 0
        reply = await ws.request("server.info")
        assert "result" in reply


async def test_websocket_origin_check(srv: RunningServer) -> None:
    control = access_of(srv).control
    assert control.check_origin("https://app.example.com", "printer:7125")
    assert control.check_origin("http://printer:7125", "printer:7125")
    assert not control.check_origin("https://evil.example.net", "printer:7125")
    ws = await srv.websocket({"Origin": "http://octo.printers.lan"})
    assert (await ws.call("access.info"))["trusted"] is False


PROXY_TRUSTED = """
[server]
host: 127.0.0.1
port: 0
[authorization]
trusted_clients:
  127.0.0.1
  10.99.0.0/16
"""

PROXY_UNTRUSTED = """
[server]
host: 127.0.0.1
port: 0
[authorization]
trusted_clients:
  10.99.0.0/16
"""


async def test_forwarded_for_counts_behind_a_trusted_proxy(tmp_path: Path) -> None:
    async with running_server(tmp_path, PROXY_TRUSTED) as srv:
        cases = [
            ({}, 200),  # the proxy's own requests
            ({"X-Forwarded-For": "10.99.3.4"}, 200),
            ({"X-Forwarded-For": "203.0.113.9"}, 401),
            ({"X-Forwarded-For": "10.99.3.4, 203.0.113.9"}, 401),  # spoofed left part
            ({"X-Forwarded-For": "203.0.113.9, 10.99.3.4"}, 401),  # via a trusted hop
            ({"X-Forwarded-For": "not-an-ip"}, 401),
            ({"X-Forwarded-For": ""}, 401),
            ({"X-Real-Ip": "10.99.1.1"}, 200),
            ({"X-Real-Ip": "203.0.113.9"}, 401),
            ({"X-Forwarded-For": "203.0.113.9", "X-Real-Ip": "10.99.1.1"}, 401),
        ]
        for headers, status in cases:
            reply = await srv.http.get("/server/info", headers=headers)
            assert reply.status == status, headers
        reply = await srv.http.get("/access/info", headers={"X-Forwarded-For": "203.0.113.9"})
        assert reply.json()["result"]["trusted"] is False
        # a one-shot token belongs to the forwarded client, not to the proxy
        fwd = {"X-Forwarded-For": "203.0.113.9"}
        token = (await srv.http.get("/access/oneshot_token",
                                    headers={**fwd, **key_headers(srv)})).json()["result"]
        reply = await srv.http.get(f"/server/info?token={token}",
                                   headers={"X-Forwarded-For": "203.0.113.10"})
        assert reply.status == 401
        token = (await srv.http.get("/access/oneshot_token",
                                    headers={**fwd, **key_headers(srv)})).json()["result"]
        assert (await srv.http.get(f"/server/info?token={token}", headers=fwd)).status == 200


async def test_forwarded_for_ignored_from_an_untrusted_peer(tmp_path: Path) -> None:
    async with running_server(tmp_path, PROXY_UNTRUSTED) as srv:
        for headers in ({"X-Forwarded-For": "10.99.3.4"}, {"X-Real-Ip": "10.99.3.4"}):
            reply = await srv.http.get("/server/info", headers=headers)
            assert reply.status == 401
            assert reply.json() == UNAUTHORIZED


async def test_default_config_trusts_loopback_only(tmp_path: Path) -> None:
    async with running_server(tmp_path) as srv:
        assert (await srv.http.get("/server/info")).status == 200
        reply = await srv.http.get("/access/user")
        assert reply.json()["result"]["username"] == "_TRUSTED_USER_"
        control = access_of(srv).control
        assert control.trust.is_trusted("::1")
        assert not control.trust.is_trusted("192.168.1.20")


async def test_force_logins_ignores_trust_once_a_user_exists(tmp_path: Path) -> None:
    config = PROXY_TRUSTED + "force_logins: True\n"
    async with running_server(tmp_path, config) as srv:
        assert (await srv.http.get("/server/info")).status == 200
        reply = await srv.http.post("/access/user", json={"username": "root",
                                                          "password": "pw"})
        token = reply.json()["result"]["token"]
        assert (await srv.http.get("/server/info")).status == 401
        assert (await srv.http.get("/access/info")).json()["result"]["login_required"] is True
        assert (await srv.http.get("/server/info", headers={
            "Authorization": f"Bearer {token}"})).status == 200


async def test_trusted_browser_cannot_be_driven_by_foreign_pages(tmp_path: Path) -> None:
    config = PROXY_TRUSTED + "cors_domains:\n  https://app.example.com\n"
    async with running_server(tmp_path, config) as srv:
        same = f"http://127.0.0.1:{srv.port}"
        cases = [
            ({}, 200),
            ({"Origin": same}, 200),
            ({"Origin": "https://app.example.com"}, 200),
            ({"Origin": "http://10.99.0.7:8080"}, 200),  # a trusted host's page
            ({"Origin": "https://evil.example.net"}, 403),
            ({"Origin": "null"}, 403),
            ({"Sec-Fetch-Site": "cross-site"}, 403),
            ({"Sec-Fetch-Site": "same-origin"}, 200),
            ({"Sec-Fetch-Site": "none"}, 200),
            ({"Origin": "https://evil.example.net", **key_headers(srv)}, 200),
        ]
        for headers, status in cases:
            reply = await srv.http.post("/server/logs/rollover", headers=headers)
            assert reply.status == status, headers
            reply = await srv.http.get("/access/info", headers=headers)
            assert reply.status == 200  # public
        reply = await srv.http.post(
            "/server/jsonrpc", headers={"Origin": "https://evil.example.net"},
            body='{"jsonrpc":"2.0","method":"server.info","id":1}')
        assert reply.status == 403
        assert reply.json()["error"]["code"] == 403
