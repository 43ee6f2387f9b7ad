"""HTTP: nothing protected without credentials; API key, bearer token and one-shot token
each open the door, and only while they are valid."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from gateway.registry import Access, Answer, Endpoint
from gateway.transports.http_door import NO_PERMISSION
from tests.access.conftest import (
    UNAUTHORIZED,
    UNTRUSTED_CONFIG,
    access_of,
    bearer,
    create_user,
    fetch_from,
    key_headers,
    login,
)
from tests.harness import RunningServer, running_server

EXPECTED_PUBLIC = {"access.login", "access.refresh_jwt", "access.info",
                   "server.connection.identify"}


def http_routes(srv: RunningServer) -> list[tuple[str, str, Endpoint]]:
    """Every (verb, path, endpoint) the registry serves over HTTP."""
    registry = srv.server.registry
    seen: dict[tuple[str, str], Endpoint] = {}
    for endpoint in registry.methods.values():
        for verb, path in endpoint.http:
            seen[(verb, path)] = endpoint
    for path in registry.http_paths():
        found = registry.lookup_http(path)
        assert found is not None
        for verb, endpoint in found[0].items():
            seen[(verb, path)] = endpoint
    def sample(match: re.Match[str]) -> str:
        # `{origin:local|sdcard}`: a value the pattern takes
        pattern = match.group(2) or ""
        return pattern.split("|")[0] if "|" in pattern else "x"

    return [(verb, re.sub(r"\{(\w+)(?::([^{}]+))?\}", sample, path), ep)
            for (verb, path), ep in seen.items()]


async def test_public_endpoints_are_exactly_moonrakers(srv: RunningServer) -> None:
    public = {n for n, ep in srv.server.registry.methods.items() if ep.access is Access.PUBLIC}
    assert public >= EXPECTED_PUBLIC


async def test_every_protected_route_refuses_without_credentials(srv: RunningServer) -> None:
    routes = [r for r in http_routes(srv) if r[2].access is not Access.PUBLIC]
    assert len(routes) > 15
    for verb, path, endpoint in routes:
        reply = await srv.http.request(verb, path)
        if endpoint.answer is Answer.OCTOPRINT:
            # OctoPrint's refusal: 403 with its own words
            assert reply.status == 403, (verb, path, endpoint.name, reply.body)
            assert reply.json() == {"error": NO_PERMISSION}
            continue
        assert reply.status == 401, (verb, path, endpoint.name, reply.body)
        assert reply.json() == UNAUTHORIZED
    reply = await srv.http.post("/server/jsonrpc", json={"jsonrpc": "2.0",
                                                         "method": "server.info", "id": 1})
    assert reply.status == 401


async def test_public_routes_answer_without_credentials(srv: RunningServer) -> None:
    reply = await srv.http.get("/access/info")
    assert reply.status == 200
    assert reply.json()["result"] == {"default_source": "moonraker",
                                      "available_sources": ["moonraker"],
                                      "login_required": False, "trusted": False}


async def test_api_key_opens_every_protected_route(srv: RunningServer) -> None:
    for verb, path, endpoint in http_routes(srv):
        if verb != "GET" or endpoint.access is Access.PUBLIC:
            continue
        reply = await srv.http.get(path, headers=key_headers(srv))
        assert reply.status not in (401, 403), (path, reply.body)
    reply = await srv.http.get("/server/info", headers={"X-Api-Key": "0" * 32})
    assert reply.status == 401
    reply = await srv.http.post("/server/jsonrpc", headers=key_headers(srv),
                                json={"jsonrpc": "2.0", "method": "access.get_user", "id": 1})
    assert reply.json()["result"]["username"] == "_API_KEY_USER_"


async def test_api_key_query_argument_is_not_accepted(srv: RunningServer) -> None:
    # as Moonraker: keys only in a header, never in URLs that end up in logs
    key = access_of(srv).control.api_key
    assert (await srv.http.get(f"/server/info?api_key={key}")).status == 401


async def test_regenerating_the_api_key_invalidates_the_old_one(srv: RunningServer) -> None:
    old = key_headers(srv)
    reply = await srv.http.get("/access/api_key", headers=old)
    assert reply.json()["result"] == old["X-Api-Key"]
    assert re.fullmatch(r"[0-9a-f]{32}", old["X-Api-Key"])
    reply = await srv.http.post("/access/api_key", headers=old)
    new = reply.json()["result"]
    assert new != old["X-Api-Key"]
    assert (await srv.http.get("/server/info", headers=old)).status == 401
    assert (await srv.http.get("/server/info", headers={"X-Api-Key": new})).status == 200


async def test_api_key_is_stored_out_of_reach_and_survives_a_restart(tmp_path: Path) -> None:
    async with running_server(tmp_path, UNTRUSTED_CONFIG) as srv:
        key = access_of(srv).control.api_key
        await create_user(srv)
        token = (await login(srv)).json()["result"]["token"]
        reply = await srv.http.get("/server/database/list", headers=key_headers(srv))
        assert reply.status == 200 and "access" not in reply.body.decode()
    async with running_server(tmp_path, UNTRUSTED_CONFIG) as srv:
        assert access_of(srv).control.api_key == key
        assert (await srv.http.get("/server/info", headers=bearer(token))).status == 200


async def test_oneshot_token_works_once(srv: RunningServer) -> None:
    token = (await srv.http.get("/access/oneshot_token", headers=key_headers(srv))).json()
    token = token["result"]
    assert re.fullmatch(r"[A-Z2-7]{32}", token)
    assert (await srv.http.get(f"/server/info?token={token}")).status == 200
    assert (await srv.http.get(f"/server/info?token={token}")).json() == UNAUTHORIZED


async def test_oneshot_token_expires_after_five_seconds(srv: RunningServer) -> None:
    access = access_of(srv)
    first = (await srv.http.get("/access/oneshot_token", headers=key_headers(srv))).json()
    second = (await srv.http.get("/access/oneshot_token", headers=key_headers(srv))).json()
    access.clock.advance(4.5)
    assert (await srv.http.get(f"/server/info?token={first['result']}")).status == 200
    access.clock.advance(1.0)
    assert (await srv.http.get(f"/server/info?token={second['result']}")).status == 401


async def test_oneshot_token_is_bound_to_the_requesting_address(srv: RunningServer) -> None:
    token = (await srv.http.get("/access/oneshot_token", headers=key_headers(srv))).json()
    reply = await fetch_from(srv, f"/server/info?token={token['result']}", "127.0.0.2")
    assert reply.status == 401
    # the attempt from elsewhere used it up
    assert (await srv.http.get(f"/server/info?token={token['result']}")).status == 401
    # and a token asked for from 127.0.0.2 works there
    reply = await fetch_from(srv, "/access/oneshot_token", "127.0.0.2", key_headers(srv))
    token2 = reply.json()["result"]
    assert (await fetch_from(srv, f"/server/info?token={token2}", "127.0.0.2")).status == 200


async def test_oneshot_token_is_not_passed_to_handlers(srv: RunningServer) -> None:
    seen: dict[str, Any] = {}
    srv.server.register_endpoint("test.echo", lambda r: seen.update(r.args) or "ok",
                                 http="GET /test/echo")
    token = (await srv.http.get("/access/oneshot_token", headers=key_headers(srv))).json()
    assert (await srv.http.get(f"/test/echo?token={token['result']}&a=1")).status == 200
    assert seen == {"a": "1"}


async def test_oneshot_token_cannot_buy_another(srv: RunningServer) -> None:
    token = (await srv.http.get("/access/oneshot_token", headers=key_headers(srv))).json()
    reply = await srv.http.get(f"/access/oneshot_token?token={token['result']}")
    assert reply.status == 403
    assert reply.json()["error"]["code"] == 403


async def test_login_bearer_refresh_logout(srv: RunningServer) -> None:
    created = await create_user(srv)
    assert created["action"] == "user_created"
    assert (await login(srv, password="wrong")).status == 401
    assert (await login(srv, username="nobody")).status == 401
    reply = await login(srv)
    assert reply.status == 200
    body = reply.json()["result"]
    assert set(body) == {"username", "token", "refresh_token", "action", "source"}
    assert body["action"] == "user_logged_in" and body["username"] == "alice"
    assert body["source"] == "moonraker"
    token, refresh = body["token"], body["refresh_token"]

    user = (await srv.http.get("/access/user", headers=bearer(token))).json()["result"]
    assert user["username"] == "alice" and user["source"] == "moonraker"
    assert (await srv.http.get("/server/info", headers={"X-Access-Token": token})).status == 200
    assert (await srv.http.get(f"/server/info?access_token={token}")).status == 200
    # the refresh token is not an access token, and vice versa
    assert (await srv.http.get("/server/info", headers=bearer(refresh))).status == 401
    assert (await srv.http.post("/access/refresh_jwt",
                                json={"refresh_token": token})).status == 401

    reply = await srv.http.post("/access/refresh_jwt", json={"refresh_token": refresh})
    assert reply.status == 200
    refreshed = reply.json()["result"]
    assert refreshed["action"] == "user_jwt_refresh" and refreshed["username"] == "alice"
    assert (await srv.http.get("/server/info", headers=bearer(refreshed["token"]))).status == 200

    reply = await srv.http.post("/access/logout", headers=bearer(token))
    assert reply.json()["result"] == {"username": "alice", "action": "user_logged_out"}
    for t in (token, refreshed["token"]):
        assert (await srv.http.get("/server/info", headers=bearer(t))).status == 401
    assert (await srv.http.post("/access/refresh_jwt",
                                json={"refresh_token": refresh})).status == 401


async def test_tokens_expire(srv: RunningServer) -> None:
    await create_user(srv)
    body = (await login(srv)).json()["result"]
    access_of(srv).clock.advance(3601)
    assert (await srv.http.get("/server/info", headers=bearer(body["token"]))).status == 401
    refresh = {"refresh_token": body["refresh_token"]}
    reply = await srv.http.post("/access/refresh_jwt", json=refresh)
    assert reply.status == 200
    access_of(srv).clock.advance(91 * 86400)
    reply = await srv.http.post("/access/refresh_jwt", json=refresh)
    assert reply.status == 401


async def test_user_management(srv: RunningServer) -> None:
    await create_user(srv, "alice")
    await create_user(srv, "bob")
    reply = await srv.http.post("/access/user", headers=key_headers(srv),
                                json={"username": "bob", "password": "x"})
    assert reply.status == 400
    reply = await srv.http.post("/access/user", headers=key_headers(srv),
                                json={"username": "_TRUSTED_USER_", "password": "x"})
    assert reply.status == 400
    users = (await srv.http.get("/access/users/list", headers=key_headers(srv))).json()
    assert [u["username"] for u in users["result"]["users"]] == ["alice", "bob"]
    assert set(users["result"]["users"][0]) == {"username", "source", "created_on"}

    bob = (await login(srv, "bob")).json()["result"]
    alice = (await login(srv, "alice")).json()["result"]
    reply = await srv.http.delete("/access/user?username=alice", headers=bearer(alice["token"]))
    assert reply.status == 400  # not oneself
    reply = await srv.http.delete("/access/user?username=bob", headers=bearer(alice["token"]))
    assert reply.json()["result"] == {"username": "bob", "action": "user_deleted"}
    assert (await srv.http.get("/server/info", headers=bearer(bob["token"]))).status == 401
    assert (await login(srv, "bob")).status == 401


async def test_password_change(srv: RunningServer) -> None:
    await create_user(srv)
    first = (await login(srv)).json()["result"]
    second = (await login(srv)).json()["result"]
    reply = await srv.http.post("/access/user/password", headers=bearer(first["token"]),
                                json={"password": "bad", "new_password": "n3w-password"})
    assert reply.status == 400
    reply = await srv.http.post("/access/user/password", headers=bearer(first["token"]),
                                json={"password": "correct horse battery staple",
                                      "new_password": "n3w-password"})
    assert reply.json()["result"] == {"username": "alice", "action": "user_password_reset"}
    # the session that changed it lives on, the others end
    assert (await srv.http.get("/server/info", headers=bearer(first["token"]))).status == 200
    assert (await srv.http.get("/server/info", headers=bearer(second["token"]))).status == 401
    assert (await login(srv)).status == 401
    assert (await login(srv, password="n3w-password")).status == 200


async def test_passwords_are_stored_hashed(srv: RunningServer) -> None:
    await create_user(srv)
    rows = await srv.server.database.run(
        lambda c: c.execute("SELECT password FROM access_users").fetchall()
    )
    assert len(rows) == 1
    assert rows[0][0].startswith("scrypt$") and "horse" not in rows[0][0]


async def test_thumbnails_under_gcodes_are_public(srv: RunningServer) -> None:
    control = access_of(srv).control
    for path in ("/server/files/gcodes/a/b.png", "/server/files/gcodes/x.JPG"):
        assert control.check_http("GET", path, "127.0.0.1", {}, {}, False) is None
    for method, path in (("GET", "/server/files/gcodes/x.gcode"),
                         ("GET", "/server/files/config/x.png"),
                         ("DELETE", "/server/files/gcodes/x.png")):
        try:
            control.check_http(method, path, "127.0.0.1", {}, {}, False)
        except Exception as exc:
            assert getattr(exc, "status", None) == 401
        else:
            raise AssertionError(f"{method} {path} allowed")
