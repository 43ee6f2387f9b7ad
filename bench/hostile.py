"""A hostile client's run against a Skysail process, and what it leaves in the server's
memory (issue 18): about 1,400 websocket frames and 850 HTTP requests - wrong types,
junk batches, deep nesting, NaN/Infinity, huge and binary frames, malformed bodies, odd
content types, query-string hints, broken multipart, path traversal, hostile headers.

    python -m bench.hostile                 # starts its own Skysail (default config)
    python -m bench.hostile --rounds 3      # the run three times over

Prints the server's RSS before, at its peak, and after the run (once it is quiet), and
counts the bad answers: a -32603 or a 5xx other than 503, an unanswered request, a
closed socket.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
import urllib.parse
from typing import Any

import msgspec
import tornado.httpclient
import tornado.iostream
import tornado.websocket

from bench.common import SkysailProcess, rss_mb

encode = msgspec.json.encode
WRONG: list[Any] = [None, True, -1, 1.5, 10**30, "", "x" * 1000, [], {}, [None], {"a": {}},
                    "../../etc/passwd", "\u0000", "nan", "inf"]
METHODS = ["server.files.get_directory", "server.files.metadata", "server.files.metascan",
           "server.files.thumbnails", "server.files.post_directory", "server.job_queue.jump",
           "server.database.get_item", "server.database.post_item", "server.history.list",
           "server.gcode_store", "printer.objects.query", "server.webcams.get_item",
           "server.announcements.dismiss", "access.login", "machine.proc_stats",
           "printer.gcode.help", "server.files.copy", "server.temperature_store"]
PATHS = ["/server/files/directory", "/server/files/metadata", "/server/database/item",
         "/access/login", "/access/refresh_jwt", "/server/files/zip", "/printer/gcode/script",
         "/server/files/upload", "/api/job", "/api/files/local", "/api/printer/command",
         "/plugin/continuousprint/set/add", "/server/jsonrpc", "/server/history/list",
         "/server/files/gcodes/..%2F..%2Fetc%2Fpasswd", "/server/info"]
BODIES: list[tuple[bytes, str]] = [
    (b"{nope", "application/json"), (b"[1, 2]", "application/json"),
    (b'{"path": null, "filename": [], "namespace": NaN}', "application/json"),
    (b'{"a": ' + b"[" * 5000 + b"]" * 5000 + b"}", "application/json"),
    (b"x" * 2_000_000, "application/json"), (b"\xff\xfe\x00", "text/plain"),
    (b"--B\r\nbroken", "multipart/form-data"), (b"--B\r\nContent-Disposition: form-data; "
     b"name=\"file\"; filename=\"a.gcode\"\r\n\r\nG28\r\n", "multipart/form-data; boundary=B"),
    (b"a=1&b:int=x&c:json={", "application/x-www-form-urlencoded"),
    (b'{"username": "' + b"a" * 100_000 + b'", "password": 5}', "application/json"),
]


async def websocket_run(url: str, rnd: random.Random, bad: list[str]) -> int:
    frames = 0
    pending: dict[Any, str] = {}
    ws: tornado.websocket.WebSocketClientConnection | None = None
    reader: asyncio.Future[None] | None = None

    async def read(conn: tornado.websocket.WebSocketClientConnection) -> None:
        while True:
            message = await conn.read_message()
            if message is None:
                return
            data = msgspec.json.decode(message)
            for item in data if isinstance(data, list) else [data]:
                if isinstance(item, dict):
                    pending.pop(item.get("id"), None)
                    if item.get("error", {}).get("code") == -32603:
                        bad.append(f"-32603: {item}")

    async def connect() -> tornado.websocket.WebSocketClientConnection:
        nonlocal reader
        conn = await tornado.websocket.websocket_connect(url, max_message_size=64 * 2**20)
        reader = asyncio.ensure_future(read(conn))
        return conn

    async def send(message: Any, expect: Any = None) -> None:
        nonlocal frames, ws
        if ws is None or ws.protocol is None:
            if ws is not None:
                bad.append(f"websocket closed by the server ({ws.close_code} "
                           f"{ws.close_reason}); {len(pending)} requests unanswered")
                pending.clear()
            ws = await connect()
        binary = isinstance(message, bytes)
        text = message if isinstance(message, (str, bytes)) else encode(message).decode()
        # before the write: the answer may arrive while it is awaited
        if expect is not None:
            pending[expect] = str(message)[:80]
        try:
            await ws.write_message(text, binary=binary)
        except tornado.websocket.WebSocketClosedError:
            pending.pop(expect, None)
            return
        frames += 1

    for i in range(700):
        method = rnd.choice(METHODS)
        params = {k: rnd.choice(WRONG) for k in ("path", "filename", "namespace", "key",
                                                 "job_id", "count", "objects", "source",
                                                 "dest", "entry_id", "username")
                  if rnd.random() < 0.4}
        await send({"jsonrpc": "2.0", "method": method, "params": params, "id": i}, i)
    for i in range(400):
        kind = rnd.randrange(6)
        if kind == 0:
            items: list[Any] = [rnd.choice([*WRONG, {"jsonrpc": "2.0", "method": "server.info",
                                                     "id": f"b{i}-{j}"}])
                                for j in range(rnd.choice([3, 50, 250, 400]))]
            await send(items)
        elif kind == 1:
            await send("[" * rnd.choice([100, 2000, 100_000]))
        elif kind == 2:
            await send('{"jsonrpc":"2.0","method":"server.info","params":[NaN, Infinity],'
                       '"id":1}')
        elif kind == 3:
            await send(bytes(rnd.getrandbits(8) for _ in range(200)))
        elif kind == 4:
            await send(encode({"jsonrpc": "2.0", "method": "server.database.post_item",
                               "params": {"namespace": "junk", "key": f"k{i % 5}",
                                          "value": "v" * 1_000_000}, "id": f"big{i}"}).decode(),
                       f"big{i}")
        else:
            await send({"jsonrpc": "2.0", "method": "server.info",
                        "params": [[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]], "id": f"n{i}"},
                       f"n{i}")
    # answers were read all along (a client that stops reading is dropped, by design)
    deadline = time.monotonic() + 120
    while pending and time.monotonic() < deadline:
        if ws is None or ws.protocol is None:
            break
        await asyncio.sleep(0.05)
    if ws is not None and ws.protocol is None:
        bad.append(f"websocket closed by the server ({ws.close_code} {ws.close_reason})")
    bad.extend(f"unanswered: {what}" for what in list(pending.values())[:20])
    if reader is not None:
        reader.cancel()
    if ws is not None:
        ws.close()
    return frames


async def http_run(base: str, rnd: random.Random, bad: list[str]) -> int:
    client = tornado.httpclient.AsyncHTTPClient(force_instance=True,
                                                max_body_size=256 * 1024 * 1024)
    requests = 0
    try:
        for _ in range(850):
            path = rnd.choice(PATHS)
            query = urllib.parse.urlencode({rnd.choice(["path", "namespace:float", "count:int",
                                                        "key:json", "flag:bool", "x"]):
                                            rnd.choice(["inf", "nan", "{", "1e999", "..",
                                                        "a" * 5000, "%00", "true"])})
            body, kind = rnd.choice(BODIES)
            verb = rnd.choice(["GET", "POST", "POST", "DELETE", "PUT"])
            headers = {"Content-Type": kind, "X-Api-Key": rnd.choice(["", "x" * 5000, "\t"]),
                       "Authorization": rnd.choice(["Bearer ", "Bearer a.b.c", "Basic x"]),
                       "X-Forwarded-For": "1.2.3.4, " * rnd.choice([1, 200])}
            try:
                reply = await client.fetch(
                    f"{base}{path}?{query}", method=verb, headers=headers,
                    body=body if verb in ("POST", "PUT", "DELETE") else None,
                    raise_error=False, request_timeout=60, allow_nonstandard_methods=True)
            except Exception as exc:  # a closed connection after a refusal is an answer
                if not isinstance(exc, (ConnectionError, tornado.iostream.StreamClosedError)):
                    bad.append(f"{verb} {path}: {exc!r}")
                continue
            finally:
                requests += 1
            if reply.code >= 500 and reply.code not in (503, 507):
                bad.append(f"{verb} {path}: {reply.code} {(reply.body or b'')[:100]!r}")
            if reply.code == 599:
                bad.append(f"{verb} {path}: no answer")
    finally:
        client.close()
    return requests


async def watch_peak(pid: int, peak: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        peak[0] = max(peak[0], rss_mb(pid))
        await asyncio.sleep(0.05)


async def main(rounds: int, seed: int) -> None:
    with SkysailProcess() as server:
        pid = server.pid
        base = f"http://127.0.0.1:{server.port}"
        # what a first client does (caches, lazy imports), before the baseline is taken
        async_client = tornado.httpclient.AsyncHTTPClient(force_instance=True)
        for path in ("/server/info", "/server/files/directory", "/printer/objects/list"):
            await async_client.fetch(base + path, raise_error=False)
        async_client.close()
        await asyncio.sleep(2)
        start = rss_mb(pid)
        peak = [start]
        stop = asyncio.Event()
        watcher = asyncio.ensure_future(watch_peak(pid, peak, stop))
        rnd = random.Random(seed)
        bad: list[str] = []
        frames = requests = 0
        t0 = time.monotonic()
        for _ in range(rounds):
            frames += await websocket_run(f"ws://127.0.0.1:{server.port}/websocket", rnd, bad)
            requests += await http_run(base, rnd, bad)
        elapsed = time.monotonic() - t0
        stop.set()
        await watcher
        # quiet: let the server finish what it was doing
        await asyncio.sleep(5)
        end = rss_mb(pid)
        print(f"{frames} websocket frames, {requests} HTTP requests in {elapsed:.0f} s")
        print(f"RSS: start {start:.1f} MB, peak {peak[0]:.1f} MB, end {end:.1f} MB "
              f"(end - start {end - start:+.1f} MB)")
        print(f"bad answers: {len(bad)}")
        for line in bad[:20]:
            print("  ", line[:200])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--seed", type=int, default=18)
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.seed))
