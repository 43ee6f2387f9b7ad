"""One door for every request: a declared endpoint reached over HTTP (query with type
hints, forms, JSON bodies, path arguments, any verb), over the websocket (params by name
or by position) and from inside the process (`Registry.call`), with the answer shaped
as its row says."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

import pytest
from msgspec import Meta

from gateway.errors import Conflict, NotFound
from gateway.registry import Answer, Params, Response
from gateway.request import Caller, Request, Transport
from tests.harness import RunningServer, running_server


class EchoArgs(Params):
    name: Annotated[str, Meta(min_length=1)]
    count: Annotated[int, Meta(ge=0)] = 1
    flag: bool = False
    tags: list[str] = []


def echo(args: EchoArgs, request: Request) -> dict[str, Any]:
    return {"name": args.name, "count": args.count, "flag": args.flag, "tags": args.tags,
            "transport": request.transport.value}


class ItemArgs(Params):
    origin: str
    path: str
    value: int | None = None


async def item(args: ItemArgs, request: Request) -> Response:
    if args.origin == "busy":
        raise Conflict("in use")
    return Response(201, {"path": args.path, "value": args.value, "verb": request.http_method},
                    {"Location": f"/x/{args.path}"})


@pytest.fixture
async def srv(tmp_path: Path) -> AsyncIterator[RunningServer]:
    async with running_server(tmp_path) as running:
        reg = running.server.register_endpoint
        reg("test.echo", echo, params=EchoArgs, positional=("name", "count"),
            http=[("GET", "/test/echo"), ("POST", "/test/echo"), ("PUT", "/test/echo")])
        reg("test.item", item, params=ItemArgs, websocket=False, answer=Answer.OCTOPRINT,
            http=[(v, "/test/item/{origin:local|busy}/{path:.+}")
                  for v in ("GET", "POST", "PATCH", "DELETE")])
        reg("test.bare", echo, params=EchoArgs, answer=Answer.BARE, websocket=False,
            http="GET /test/bare")
        yield running


async def test_query_string_with_type_hints_and_words(srv: RunningServer) -> None:
    reply = await srv.http.get("/test/echo?name=a&count:int=3&flag=yes&tags=x,y")
    assert reply.status == 200
    assert reply.json()["result"] == {"name": "a", "count": 3, "flag": True,
                                      "tags": ["x", "y"], "transport": "http"}


async def test_form_json_and_put_bodies(srv: RunningServer) -> None:
    form = await srv.http.post("/test/echo?count=2", body="name=f&flag=true",
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert form.json()["result"]["name"] == "f" and form.json()["result"]["count"] == 2
    js = await srv.http.request("PUT", "/test/echo", json={"name": "j", "tags": ["t"]})
    assert js.json()["result"]["tags"] == ["t"]
    # texts stand for lists in query strings and forms; a JSON body says what it means
    listed = await srv.http.post("/test/echo?tags=a,b", body="name=f&count=3",
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert listed.json()["result"]["tags"] == ["a", "b"]
    typed = await srv.http.post("/test/echo", json={"name": "j", "tags": "a,b", "flag": "yes"})
    assert typed.status == 400
    assert "[tags]" in typed.json()["error"]["message"]


async def test_http_errors_name_the_argument(srv: RunningServer) -> None:
    missing = await srv.http.get("/test/echo")
    assert (missing.status, missing.json()["error"]["message"]) == (
        400, "No data for argument: name")
    wrong = await srv.http.get("/test/echo?name=a&count=-1")
    assert wrong.status == 400
    assert wrong.json()["error"]["message"] == "Invalid argument [count]: expected `int` >= 0"
    hint = await srv.http.get("/test/echo?name:float=inf")
    assert hint.status == 400
    kind = await srv.http.post("/test/echo", body="name=a",
                               headers={"Content-Type": "text/plain"})
    assert kind.status == 415
    array = await srv.http.post("/test/echo", json=[1, 2])
    assert (array.status, array.json()["error"]["message"]) == (
        400, "Error parsing JSON body: expected a JSON object")
    verb = await srv.http.delete("/test/echo")
    assert verb.status == 405


async def test_websocket_by_name_and_by_position(srv: RunningServer) -> None:
    ws = await srv.websocket()
    assert (await ws.call("test.echo", {"name": "w", "count": "4"}))["count"] == 4
    assert (await ws.call("test.echo", ["p", 7]))["count"] == 7
    bad = await ws.request("test.echo", {"name": None})
    assert bad["error"] == {"code": -32602,
                            "message": "Invalid argument [name]: expected `str`, got `null`"}
    missing = await ws.request("test.echo", {})
    assert missing["error"] == {"code": -32602, "message": "No data for argument: name"}
    too_many = await ws.request("test.echo", ["p", 1, 2])
    assert too_many["error"]["code"] == -32602


async def test_http_only_rows_are_no_jsonrpc_methods(srv: RunningServer) -> None:
    ws = await srv.websocket()
    assert (await ws.request("test.item", {}))["error"]["code"] == -32601


async def test_octoprint_shaped_answers(srv: RunningServer) -> None:
    created = await srv.http.request("PATCH", "/test/item/local/a%20b/c.gcode",
                                     json={"value": 3})
    assert created.status == 201
    assert created.json() == {"path": "a b/c.gcode", "value": 3, "verb": "PATCH"}
    assert created.headers["Location"] == "/x/a b/c.gcode"
    busy = await srv.http.get("/test/item/busy/x")
    assert (busy.status, busy.json()) == (409, {"error": "in use"})
    form = await srv.http.post("/test/item/local/x", body="value=1",
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert form.status == 415 and "error" in form.json()
    wrong = await srv.http.post("/test/item/local/x", json={"value": "many"})
    assert (wrong.status, wrong.json()) == (
        400, {"error": "Invalid argument [value]: expected `int | null`, got `str`"})
    assert (await srv.http.get("/test/item/usb/x")).status == 404


async def test_bare_answers(srv: RunningServer) -> None:
    reply = await srv.http.get("/test/bare?name=b")
    assert reply.json()["name"] == "b"
    assert (await srv.http.get("/test/bare")).json()["error"]["code"] == 400


async def test_registry_call_from_inside(srv: RunningServer) -> None:
    reg = srv.server.registry
    caller = Caller(ip="", transport=Transport.INTERNAL)
    result = await reg.call("test.echo", {"name": "i", "count": "2"}, caller)
    assert result == {"name": "i", "count": 2, "flag": False, "tags": [],
                      "transport": "internal"}
    # HTTP-only rows too; a Response gives its body
    made = await reg.call("test.item", {"origin": "local", "path": "p"}, caller)
    assert made == {"path": "p", "value": None, "verb": "POST"}
    with pytest.raises(NotFound):
        await reg.call("test.nothing", {}, caller)
    with pytest.raises(Exception, match="No data for argument: name") as err:
        await reg.call("test.echo", {}, caller)
    assert err.value.rpc_code == -32602  # type: ignore[attr-defined]
