"""A DevTools protocol client with events, Chromium's launch, and screenshots."""

from __future__ import annotations

import asyncio
import base64
import collections
import itertools
import json
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import tornado.httpclient
import tornado.websocket

from bench.frontend_e2e.recorder import Recorder

MAX_PNG = 295 * 1024


class Cdp:
    def __init__(self, ws: tornado.websocket.WebSocketClientConnection) -> None:
        self.ws = ws
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._handlers: dict[str, list[Callable[[dict[str, Any]], Awaitable[None] | None]]] = (
            collections.defaultdict(list))
        self._reader = asyncio.ensure_future(self._read())
        self._tasks: set[asyncio.Future[Any]] = set()

    def on(self, event: str, fn: Callable[[dict[str, Any]], Awaitable[None] | None]) -> None:
        self._handlers[event].append(fn)

    async def _read(self) -> None:
        while True:
            raw = await self.ws.read_message()
            if raw is None:
                for waiter in self._pending.values():
                    if not waiter.done():
                        waiter.set_exception(ConnectionError("DevTools connection closed"))
                return
            msg = json.loads(raw)
            if "id" in msg:
                fut: asyncio.Future[Any] | None = self._pending.pop(msg["id"], None)
                if fut and not fut.done():
                    if "error" in msg:
                        fut.set_exception(RuntimeError(msg["error"]))
                    else:
                        fut.set_result(msg.get("result"))
                continue
            for fn in self._handlers.get(msg.get("method", ""), []):
                try:
                    res = fn(msg.get("params", {}))
                    if asyncio.iscoroutine(res):
                        task = asyncio.ensure_future(res)
                        self._tasks.add(task)
                        task.add_done_callback(self._tasks.discard)
                except Exception as exc:  # a recorder bug must not stop the run
                    print("handler error", msg.get("method"), exc, file=sys.stderr)

    async def send(self, method: str, params: dict[str, Any] | None = None,
                   timeout: float = 60) -> Any:
        msg_id = next(self._ids)
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[msg_id] = fut
        await self.ws.write_message(json.dumps({"id": msg_id, "method": method,
                                                "params": params or {}}))
        return await asyncio.wait_for(fut, timeout)

    async def evaluate(self, expression: str) -> Any:
        res = await self.send("Runtime.evaluate", {"expression": expression,
                                                   "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in res:
            raise RuntimeError(res["exceptionDetails"].get("exception", {}).get("description")
                               or res["exceptionDetails"])
        return res["result"].get("value")

    async def wait_for(self, expression: str, timeout: float = 30) -> Any:
        deadline = time.monotonic() + timeout
        last_exc: Exception | None = None
        while True:
            try:
                value = await self.evaluate(expression)
            except RuntimeError as exc:
                value, last_exc = None, exc
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"page never satisfied: {expression[:120]} ({last_exc})")
            await asyncio.sleep(0.2)

    def close(self) -> None:
        self._reader.cancel()
        self.ws.close()


async def screenshot(cdp: Cdp, rec: Recorder, path: Path) -> None:
    await asyncio.sleep(0.3)
    scale = 1.0
    while True:
        params: dict[str, Any] = {"format": "png"}
        if scale < 1.0:
            params["clip"] = {"x": 0, "y": 0, "width": 1400, "height": 900, "scale": scale}
        data = base64.b64decode((await cdp.send("Page.captureScreenshot", params))["data"])
        if len(data) <= MAX_PNG or scale < 0.55:
            break
        scale -= 0.1
    path.write_bytes(data)  # noqa: ASYNC240 - a small file, once per screenshot
    rec.step("screenshot", file=str(path), kb=len(data) // 1024, scale=round(scale, 1))


async def launch_chromium(profile: str) -> tuple[subprocess.Popen[bytes], str]:
    from tests.chromium import CHROMIUM_FLAGS, devtools_port, find_chromium

    binary = find_chromium()
    if binary is None:
        raise SystemExit("chromium is not installed (apt-get install chromium)")
    proc = subprocess.Popen(  # noqa: ASYNC220 - started once, never waited on here
        [binary, *CHROMIUM_FLAGS, "--window-size=1400,900", "--hide-scrollbars",
         f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    devtools = await asyncio.get_running_loop().run_in_executor(None, devtools_port, proc)
    # keep draining stderr so chromium never blocks on a full pipe
    asyncio.get_running_loop().run_in_executor(None, lambda: proc.stderr and proc.stderr.read())
    client = tornado.httpclient.AsyncHTTPClient(force_instance=True)
    try:
        resp = await client.fetch(f"http://127.0.0.1:{devtools}/json/list")
    finally:
        client.close()
    target = next(t for t in json.loads(resp.body) if t.get("type") == "page")
    return proc, target["webSocketDebuggerUrl"]
