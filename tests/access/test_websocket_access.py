"""Websockets: an untrusted socket is accepted, but answers -32602 "Unauthorized" and gets
no broadcasts until it identifies with an API key or access token (or opens with a
one-shot token)."""

from __future__ import annotations

from pathlib import Path

import pytest
import tornado.httpclient
import tornado.websocket

from gateway.registry import Access
from tests.access.conftest import create_user, key_headers, login
from tests.harness import RpcError, RunningServer, Websocket, running_server

IDENTITY = {"client_name": "test", "version": "1.0", "type": "web", "url": "http://x"}


async def no_broadcast_seen(ws: Websocket, method: str) -> bool:
    """After a round trip on `ws` (frames arrive in order), was `method` received?"""
    await ws.call("access.info")
    return all(n["method"] != method for n in ws.notifications)


async def test_unidentified_socket_cannot_call_anything(srv: RunningServer) -> None:
    ws = await srv.websocket()
    protected = [n for n, ep in srv.server.registry.methods.items()
                 if ep.access is not Access.PUBLIC]
    assert len(protected) > 15
    for method in protected:
        reply = await ws.request(method, {})
        assert reply["error"] == {"code": -32602, "message": "Unauthorized"}, method
    info = await ws.call("access.info")
    assert info["trusted"] is False


async def test_identify_without_credentials_is_refused(srv: RunningServer) -> None:
    ws = await srv.websocket()
    with pytest.raises(RpcError) as err:
        await ws.call("server.connection.identify", IDENTITY)
    assert err.value.code == -32602


async def test_no_broadcasts_until_identified_with_api_key(srv: RunningServer) -> None:
    ws = await srv.websocket()
    srv.server.send_notification("notify_test", [1])
    assert await no_broadcast_seen(ws, "notify_test")

    with pytest.raises(RpcError) as err:
        await ws.call("server.connection.identify", {**IDENTITY, "api_key": "f" * 32})
    assert err.value.code == -32602
    result = await ws.call("server.connection.identify",
                           {**IDENTITY, "api_key": key_headers(srv)["X-Api-Key"]})
    assert "connection_id" in result
    srv.server.send_notification("notify_test", [2])
    await ws.wait_notification("notify_test", timeout=10)
    user = await ws.call("access.get_user")
    assert user["username"] == "_API_KEY_USER_"
    assert (await ws.call("server.info"))["components"][0] == "authorization"

    # a new key: the socket that used the old one is out again
    await ws.call("access.post_api_key")
    assert (await ws.request("server.info"))["error"]["code"] == -32602


async def test_identify_with_access_token_and_logout_revokes(srv: RunningServer) -> None:
    await create_user(srv)
    body = (await login(srv)).json()["result"]
    ws = await srv.websocket()
    bad = body["token"][:-4] + ("AAAA" if not body["token"].endswith("AAAA") else "BBBB")
    with pytest.raises(RpcError):
        await ws.call("server.connection.identify", {**IDENTITY, "access_token": bad})
    await ws.call("server.connection.identify", {**IDENTITY, "access_token": body["token"]})
    assert (await ws.call("access.get_user"))["username"] == "alice"
    srv.server.send_notification("notify_test", [1])
    await ws.wait_notification("notify_test", timeout=10)
    # logging out over HTTP ends the socket's session too
    await srv.http.post("/access/logout", headers={"Authorization": f"Bearer {body['token']}"})
    await ws.wait_notification("notify_user_logged_out", timeout=10)
    assert (await ws.request("server.info"))["error"]["code"] == -32602
    srv.server.send_notification("notify_test", [2])
    assert await no_broadcast_seen(ws, "notify_test") is False  # only the first one
    assert sum(n["method"] == "notify_test" for n in ws.notifications) == 1


async def test_login_over_the_socket_authenticates_it(srv: RunningServer) -> None:
    await create_user(srv)
    ws = await srv.websocket()
    with pytest.raises(RpcError) as err:
        await ws.call("access.login", {"username": "alice", "password": "nope"})
    assert err.value.code == -32602
    result = await ws.call("access.login", {"username": "alice",
                                            "password": "correct horse battery staple"})
    assert result["action"] == "user_logged_in"
    assert (await ws.call("access.get_user"))["username"] == "alice"
    await ws.call("access.logout")
    assert (await ws.request("server.info"))["error"]["code"] == -32602


async def test_socket_opened_with_oneshot_token(srv: RunningServer) -> None:
    token = (await srv.http.get("/access/oneshot_token", headers=key_headers(srv))).json()
    ws = await Websocket.connect(f"{srv.ws_url}?token={token['result']}")
    try:
        assert "websocket_id" in await ws.call("server.websocket.id")
    finally:
        await ws.close()
    # the token is spent
    ws = await Websocket.connect(f"{srv.ws_url}?token={token['result']}")
    try:
        assert (await ws.request("server.websocket.id"))["error"]["code"] == -32602
    finally:
        await ws.close()


async def test_oneshot_token_for_socket_from_another_address(srv: RunningServer) -> None:
    token = (await srv.http.get("/access/oneshot_token", headers=key_headers(srv))).json()
    request = tornado.httpclient.HTTPRequest(f"{srv.ws_url}?token={token['result']}",
                                             network_interface="127.0.0.2")
    ws = Websocket(await tornado.websocket.websocket_connect(request))
    try:
        assert (await ws.request("server.websocket.id"))["error"]["code"] == -32602
    finally:
        await ws.close()


async def test_socket_opened_with_api_key_header(srv: RunningServer) -> None:
    ws = await srv.websocket(key_headers(srv))
    assert "websocket_id" in await ws.call("server.websocket.id")
    ws2 = await srv.websocket({"X-Api-Key": "nope"})
    assert (await ws2.request("server.websocket.id"))["error"]["code"] == -32602


async def test_trusted_socket_loses_trust_on_bad_credentials(tmp_path: Path) -> None:
    async with running_server(tmp_path) as srv:
        ws = await srv.websocket()
        assert "websocket_id" in await ws.call("server.websocket.id")
        with pytest.raises(RpcError):
            await ws.call("server.connection.identify", {**IDENTITY, "api_key": "wrong"})
        assert (await ws.request("server.websocket.id"))["error"]["code"] == -32602
