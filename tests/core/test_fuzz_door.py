"""Every registered method, called as a hostile client would (issue 18): over the
websocket with wrong types, nulls, extremes, positional junk and junk batches; over HTTP
with the same values in query strings (type hints included), JSON, form, multipart and
odd bodies, and hostile path arguments. The server must answer each request with a
result or the caller's error: never -32603 / 500 (a handler bug, which also logs an
ERROR and so fails the test), never an unanswered request, never a closed socket.

A new endpoint without a declaration, or one that crashes on bad input, fails here.
The run is seeded (SKYSAIL_FUZZ_SEED picks another) and bounded to well under a minute.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import time
import urllib.parse
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from gateway.registry import Endpoint
from tests.core.fuzz_values import NESTED, TEXTS, WRONG, argument_sets, as_query_value
from tests.harness import RunningServer, Websocket, running_server

SEED = int(os.environ.get("SKYSAIL_FUZZ_SEED", "18"))
SETS_PER_ROW = 10
TIMEOUT = 20.0
RUN_BOUND = 60.0

CONFIG = """
[server]
host: 127.0.0.1
port: 0

[led]
backend: virtual

[timelapse]

[sensor chamber]
type: printer
name: Chamber
"""
# these restart the server by design: a restart is not an answer to test here
SKIPPED = {"server.restart", "server.database.restore"}
# these change what every later call sees (the printer stops, disconnects, restarts):
# called last, so that the others reach their handlers with a printer there
LAST = ("octoprint.connection.post", "printer.restart", "printer.firmware_restart",
        "printer.emergency_stop")
# statuses that are answers, not failures: the printer (or a device) is unavailable
SERVICE_STATES = {503, 504, 507}
encode = msgspec.json.encode


def ordered(rows: dict[str, Endpoint]) -> list[Endpoint]:
    names = sorted(n for n in rows if n not in SKIPPED and n not in LAST)
    return [rows[n] for n in names] + [rows[n] for n in LAST if n in rows]


@pytest.fixture
async def srv(tmp_path: Path) -> AsyncIterator[RunningServer]:
    (tmp_path / "gcodes").mkdir(parents=True, exist_ok=True)
    (tmp_path / "gcodes" / "cube.gcode").write_text("G28\nG1 X10 Y10\n")
    async with running_server(tmp_path, CONFIG) as running:
        yield running


class Failures:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, what: str) -> None:
        if len(self.items) < 40:
            self.items.append(what[:400])


async def fuzz_websocket(srv: RunningServer, rows: list[Endpoint], rnd: random.Random,
                         failures: Failures) -> int:
    calls = 0
    for endpoint in rows:
        if not endpoint.websocket:
            continue
        # a socket of its own: a refused identify ends a socket's trust, as it should
        ws = await srv.websocket()
        sets: list[Any] = list(argument_sets(endpoint, rnd, SETS_PER_ROW))
        sets += [[rnd.choice(WRONG) for _ in range(rnd.randint(1, 6))], [], NESTED]
        replies = await asyncio.gather(
            *(ws.request(endpoint.name, params, timeout=TIMEOUT) for params in sets),
            return_exceptions=True)
        for params, reply in zip(sets, replies, strict=True):
            calls += 1
            if isinstance(reply, BaseException):
                failures.add(f"ws {endpoint.name} {params!r:.200}: no answer ({reply!r})")
            elif reply.get("error", {}).get("code") == -32603:
                failures.add(f"ws {endpoint.name} {params!r:.200}: {reply}")
        if ws.closed.is_set():
            failures.add(f"ws closed after {endpoint.name}")
        await ws.close()
    return calls


async def fuzz_batches(ws: Websocket, rnd: random.Random, failures: Failures) -> int:
    """Batches mixing valid requests with junk: each item answered on its own."""
    sent = 0
    for round_ in range(6):
        items: list[Any] = []
        ids = []
        for i in range(rnd.choice([1, 5, 40, 250])):
            if rnd.random() < 0.5:
                req_id = f"b{round_}-{i}"
                ids.append(req_id)
                items.append({"jsonrpc": "2.0", "method": "server.info", "id": req_id})
            else:
                items.append(rnd.choice([*WRONG, {"jsonrpc": "2.0"}, {"method": 5, "id": 1},
                                         {"jsonrpc": "2.0", "method": "x", "params": 5,
                                          "id": None}]))
        await ws.send_raw(encode(items).decode())
        sent += 1
        try:
            answer = await asyncio.wait_for(ws.raw_frames.get(), TIMEOUT)
        except TimeoutError:
            failures.add(f"batch {round_} ({len(items)} items): no answer")
            continue
        if not isinstance(answer, list):
            failures.add(f"batch {round_}: answered {answer!r:.200}")
            continue
        answered = {a.get("id") for a in answer if isinstance(a, dict)}
        if not set(ids) <= answered:
            failures.add(f"batch {round_}: unanswered {set(ids) - answered}")
        if any(a.get("error", {}).get("code") == -32603 for a in answer):
            failures.add(f"batch {round_}: internal error")
    # over the item cap, nested too deep, not JSON, empty: one answer each
    for junk in (encode([{"jsonrpc": "2.0", "method": "server.info", "id": i}
                         for i in range(300)]).decode(),
                 "[" * 5000 + "]" * 5000, '{"jsonrpc":"2.0","method":"server.info","params":'
                 + "[" * 200 + "]" * 200 + ',"id":1}', "[]", "{", '"x"', "null",
                 "\x00\xff"):
        await ws.send_raw(junk)
        sent += 1
        try:
            answer = await asyncio.wait_for(ws.raw_frames.get(), TIMEOUT)
        except TimeoutError:
            failures.add(f"junk frame {junk[:40]!r}: no answer")
            continue
        if not (isinstance(answer, dict) and answer.get("error", {}).get("code") in (
                -32700, -32600, -32602)):
            failures.add(f"junk frame {junk[:40]!r}: {answer!r:.200}")
    return sent


def route_paths(path: str, rnd: random.Random) -> list[str]:
    """The route with its `{args}` filled with hostile (percent-encoded) values."""
    def fill(match: re.Match[str]) -> str:
        pattern = match.group(2) or ""
        if "|" in pattern:
            return rnd.choice(pattern.split("|"))
        value = rnd.choice([*TEXTS[:12], "x", "a b", "%2e%2e", "cube.gcode"])
        return urllib.parse.quote(value, safe="/" if pattern == ".+" else "") or "x"
    return [re.sub(r"\{(\w+)(?::([^{}]+))?\}", fill, path) for _ in range(3)]


def http_variants(verb: str, args: dict[str, Any], rnd: random.Random
                  ) -> list[tuple[str, bytes | None, dict[str, str]]]:
    """(query, body, headers) variants carrying `args`."""
    query = urllib.parse.urlencode({k: as_query_value(v) for k, v in args.items()})
    hinted = "&".join(f"{k}:{rnd.choice(['int', 'float', 'bool', 'json', 'x'])}="
                      f"{urllib.parse.quote(str(rnd.choice(WRONG)))}" for k in args)
    out: list[tuple[str, bytes | None, dict[str, str]]] = [(query, None, {}), (hinted, None, {})]
    if verb in ("POST", "PUT", "PATCH", "DELETE"):
        form = query.encode()
        out += [
            ("", encode(args), {"Content-Type": "application/json"}),
            ("", form, {"Content-Type": "application/x-www-form-urlencoded"}),
            ("", b"--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--B--\r\n",
             {"Content-Type": "multipart/form-data; boundary=B"}),
            ("", b"--B\r\nbroken", {"Content-Type": "multipart/form-data"}),
            ("", encode([args]), {"Content-Type": "application/json"}),
            ("", b'{"a": ' + b"[" * 3000 + b"]" * 3000 + b"}", {}),
            ("", b"{nope", {"Content-Type": "application/json"}),
            ("", b"G28", {"Content-Type": "text/plain"}),
            ("", b'{"x": "\xff"}', {"Content-Type": "application/json; charset=latin-1"}),
        ]
    return out


async def fuzz_http(srv: RunningServer, rows: list[Endpoint], rnd: random.Random,
                    failures: Failures) -> int:
    requests = 0
    for endpoint in rows:
        for verb, path in endpoint.http:
            arg_sets = argument_sets(endpoint, rnd, 3)
            jobs = []
            for url_path in route_paths(path, rnd):
                args = rnd.choice(arg_sets)
                for query, body, headers in http_variants(verb, args, rnd):
                    target = f"{url_path}?{query}" if query else url_path
                    jobs.append((target, body, headers))
            rnd.shuffle(jobs)
            jobs = jobs[:12]
            replies = await asyncio.gather(
                *(srv.http.request(verb, t, body=b, headers=h) for t, b, h in jobs),
                return_exceptions=True)
            for (target, body, _), reply in zip(jobs, replies, strict=True):
                requests += 1
                what = f"{verb} {target[:150]} body={body!r:.80} ({endpoint.name})"
                if isinstance(reply, BaseException):
                    failures.add(f"{what}: {reply!r}")
                elif reply.status >= 500 and reply.status not in SERVICE_STATES:
                    failures.add(f"{what}: {reply.status} {reply.body[:200]!r}")
    return requests


# the Tornado routes beside the table: uploads, downloads, websocket upgrades
MULTIPART = "multipart/form-data; boundary=B"
STREAMING: list[tuple[str, str, bytes | None, dict[str, str]]] = [
    ("POST", "/server/files/upload", b"G28", {"Content-Type": "multipart/form-data"}),
    ("POST", "/server/files/upload", b"--B\r\nbroken", {
        "Content-Type": "multipart/form-data; boundary=B"}),
    ("POST", "/server/files/upload", b"--B\r\nContent-Disposition: form-data; name=\"file\"; "
     b"filename=\"../../x.gcode\"\r\n\r\nG28\r\n--B--\r\n",
     {"Content-Type": "multipart/form-data; boundary=B"}),
    ("POST", "/server/files/upload", b"--B\r\nContent-Disposition: form-data; name=\"root\"\r\n"
     b"\r\n" + b"x" * 100_000 + b"\r\n--B--\r\n", {"Content-Type": MULTIPART}),
    ("POST", "/server/files/upload", b'{"a": 1}', {"Content-Type": "application/json"}),
    ("POST", "/server/files/upload", b"", {"Content-Type": "multipart/form-data; boundary=" +
                                          "x" * 200}),
    ("POST", "/api/files/local", b"--B\r\nContent-Disposition: form-data; name=\"file\"; "
     b"filename=\"a.exe\"\r\n\r\nMZ\r\n--B--\r\n", {"Content-Type": MULTIPART}),
    ("POST", "/api/files/sdcard", b"x", {"Content-Type": "multipart/form-data; boundary=B"}),
    ("POST", "/api/files/local", b"foldername=..&path=..", {
        "Content-Type": "application/x-www-form-urlencoded"}),
    ("POST", "/api/files/local", b"[", {"Content-Type": "application/json"}),
    ("GET", "/server/files/gcodes/..%2F..%2Fetc%2Fpasswd", None, {}),
    ("GET", "/server/files/nope/x", None, {"Range": "bytes=9-1,x"}),
    ("GET", "/server/files/gcodes/cube.gcode", None, {"Range": "bytes=99999999999999999999-"}),
    ("GET", "/server/files/gcodes/cube.gcode", None, {"If-Modified-Since": "yesterday"}),
    ("DELETE", "/server/files/gcodes/%00", None, {}),
    ("GET", "/downloads/files/local/..%2F..%2Fx", None, {}),
    ("GET", "/websocket", None, {"Upgrade": "websocket", "Connection": "Upgrade"}),
    ("GET", "/websocket", None, {"Upgrade": "websocket", "Connection": "Upgrade",
                                 "Sec-WebSocket-Version": "99", "Sec-WebSocket-Key": "x"}),
    ("GET", "/sockjs/x/y/websocket", None, {}),
    ("POST", "/server/info", b"x" * 100, {"Content-Type": "application/json",
                                         "Transfer-Encoding": "gzip"}),
    ("GET", "/nothing/here", b"x" * 70_000, {}),
    # over Tornado's 64 KiB header limit: answered 414 / 431, not a closed stream
    ("GET", "/server/info?x=" + "%C3%A9" * 12_000, None, {}),
    ("GET", "/server/info", None, {f"X-Filler-{i}": "y" * 1000 for i in range(70)}),
]


async def fuzz_streaming(srv: RunningServer, failures: Failures) -> int:
    replies = await asyncio.gather(
        *(srv.http.request(verb, path, body=body, headers=headers)
          for verb, path, body, headers in STREAMING), return_exceptions=True)
    for (verb, path, body, _), reply in zip(STREAMING, replies, strict=True):
        what = f"{verb} {path} body={body!r:.60}"
        if isinstance(reply, BaseException):
            failures.add(f"{what}: {reply!r}")
        elif reply.status >= 500 and reply.status not in SERVICE_STATES:
            failures.add(f"{what}: {reply.status} {reply.body[:200]!r}")
    return len(STREAMING)


async def test_every_method_survives_hostile_input_on_both_doors(srv: RunningServer) -> None:
    began = time.monotonic()
    rnd = random.Random(SEED)
    rows = ordered(srv.server.registry.endpoints)
    assert len(rows) > 100
    failures = Failures()
    calls = await fuzz_websocket(srv, rows, rnd, failures)
    ws = await srv.websocket()
    calls += await fuzz_batches(ws, rnd, failures)
    # HTTP from a fresh server state would be nicer, but the same server shows more:
    # whatever the websocket calls changed is still there
    calls += await fuzz_http(srv, rows, rnd, failures)
    calls += await fuzz_streaming(srv, failures)
    assert calls > 2000, calls
    assert not ws.closed.is_set(), "the websocket was closed"
    assert (await ws.call("server.info"))["api_version"]
    assert not failures.items, f"{len(failures.items)} bad answers (seed {SEED}, " \
        f"{calls} calls):\n" + "\n".join(failures.items)
    # issue 18: bounded to well under a minute in CI (about 3 s alone, 2 cores)
    elapsed = time.monotonic() - began
    assert elapsed < RUN_BOUND, f"the fuzz run took {elapsed:.1f} s"
