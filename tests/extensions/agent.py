"""A real websocket agent, as a companion program would be written: it identifies as
type `agent`, answers the server's requests from a table of methods, and records every
notification (and remote method call) it receives."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import Callable
from typing import Any

import msgspec
import tornado.httpclient
import tornado.websocket


class Refuse(Exception):
    """A method handler raises this to answer with a JSON-RPC error object."""

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error)
        self.error = error


class RpcClient:
    """A JSON-RPC websocket peer that also answers requests sent to it."""

    def __init__(self, conn: tornado.websocket.WebSocketClientConnection) -> None:
        self.conn = conn
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        # method -> handler(params) returning the result (async or not)
        self.methods: dict[str, Callable[[Any], Any]] = {}
        # what the server sent without an id: notify_* and remote method calls
        self.received: list[dict[str, Any]] = []
        # requests the server sent (with their ids)
        self.requests: list[dict[str, Any]] = []
        # answers that match no request of ours
        self.unmatched: list[dict[str, Any]] = []
        self._arrived = asyncio.Event()
        self.closed = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._reader = asyncio.ensure_future(self._read())

    @classmethod
    async def connect(cls, url: str, headers: dict[str, str] | None = None) -> RpcClient:
        req = tornado.httpclient.HTTPRequest(url, headers=headers or {})
        return cls(await tornado.websocket.websocket_connect(req))

    async def _read(self) -> None:
        while True:
            raw = await self.conn.read_message()
            if raw is None:
                self.closed.set()
                for fut in self._pending.values():
                    if not fut.done():
                        fut.set_exception(ConnectionError("closed"))
                return
            msg = msgspec.json.decode(raw)
            if "method" in msg and "id" in msg:
                self.requests.append(msg)
                task = asyncio.ensure_future(self._answer(msg))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            elif "method" in msg:
                self.received.append(msg)
                self._arrived.set()
            elif msg.get("id") in self._pending:
                self._pending.pop(msg["id"]).set_result(msg)
            else:
                self.unmatched.append(msg)

    async def _answer(self, msg: dict[str, Any]) -> None:
        handler = self.methods.get(msg["method"])
        reply: dict[str, Any] = {"jsonrpc": "2.0", "id": msg["id"]}
        if handler is None:
            reply["error"] = {"code": -32601, "message": "Method not found"}
        else:
            try:
                result = handler(msg.get("params"))
                if asyncio.iscoroutine(result):
                    result = await result
                reply["result"] = result
            except Refuse as exc:
                reply["error"] = exc.error
        await self.send(reply)

    async def send(self, message: dict[str, Any] | list[Any]) -> None:
        await self.conn.write_message(msgspec.json.encode(message).decode())

    async def request(self, method: str, params: Any = None, timeout: float = 30) -> dict[str, Any]:
        req_id = next(self._ids)
        msg: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "id": req_id}
        if params is not None:
            msg["params"] = params
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[req_id] = fut
        await self.send(msg)
        return await asyncio.wait_for(fut, timeout)

    async def call(self, method: str, params: Any = None) -> Any:
        reply = await self.request(method, params)
        assert "error" not in reply, reply
        return reply["result"]

    async def wait_received(
        self, method: str, predicate: Callable[[dict[str, Any]], bool] = lambda _: True,
        timeout: float = 20,
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            for msg in self.received:
                if msg["method"] == method and predicate(msg):
                    return msg
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no {method} within {timeout}s: {self.received[-5:]}")
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), remaining)

    def events(self) -> list[dict[str, Any]]:
        return [m["params"][0] for m in self.received if m["method"] == "notify_agent_event"]

    async def close(self) -> None:
        self.conn.close()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._reader), 5)
        self._reader.cancel()
        with contextlib.suppress(BaseException):
            await self._reader
        for task in list(self._tasks):
            task.cancel()


AGENT = {"client_name": "moonagent", "version": "0.0.1", "type": "agent",
         "url": "https://example.com/moonagent"}
AGENT_INFO = {"name": "moonagent", "version": "0.0.1", "type": "agent",
              "url": "https://example.com/moonagent"}
WEB = {"client_name": "fluidd", "version": "1.37.4", "type": "web",
       "url": "https://github.com/fluidd-core/fluidd"}
