"""Starts the real server on an ephemeral loopback port, in-process or as a subprocess,
and gives tests real HTTP and websocket clients."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import tornado.httpclient
import tornado.websocket

from gateway.app import Server, ServerOptions
from gateway.transports.listener import Listener

DEFAULT_CONFIG = """
[server]
host: 127.0.0.1
port: 0
"""


async def wait_for(
    condition: Callable[[], bool | Awaitable[bool]], timeout: float = 20, what: str = ""
) -> None:
    """Poll `condition` until it holds (never a guessed sleep)."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        await asyncio.sleep(0.01)


@dataclass
class HttpReply:
    status: int
    body: bytes
    headers: dict[str, str]

    def json(self) -> Any:
        return msgspec.json.decode(self.body)


class Http:
    def __init__(self, base: str) -> None:
        self.base = base
        self.client = tornado.httpclient.AsyncHTTPClient(force_instance=True)

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        body: bytes | str | None = None,
        headers: dict[str, str] | None = None,
    ) -> HttpReply:
        hdrs = dict(headers or {})
        if json is not None:
            body = msgspec.json.encode(json)
            hdrs.setdefault("Content-Type", "application/json")
        if body is None and method in ("POST", "PUT", "PATCH"):
            body = b""
        resp = await self.client.fetch(
            self.base + path,
            method=method,
            body=body,
            headers=hdrs,
            raise_error=False,
            request_timeout=30,
            allow_nonstandard_methods=True,
        )
        return HttpReply(resp.code, resp.body or b"", dict(resp.headers.get_all()))

    async def get(self, path: str, **kw: Any) -> HttpReply:
        return await self.request("GET", path, **kw)

    async def post(self, path: str, **kw: Any) -> HttpReply:
        return await self.request("POST", path, **kw)

    async def delete(self, path: str, **kw: Any) -> HttpReply:
        return await self.request("DELETE", path, **kw)

    def close(self) -> None:
        self.client.close()


class RpcError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class Websocket:
    """A JSON-RPC websocket client: calls by id, notifications collected in order."""

    def __init__(self, conn: tornado.websocket.WebSocketClientConnection) -> None:
        self.conn = conn
        self._next_id = 0
        self._pending: dict[Any, asyncio.Future[Any]] = {}
        self.notifications: list[dict[str, Any]] = []
        self.raw_frames: asyncio.Queue[Any] = asyncio.Queue()
        self._notified = asyncio.Event()
        self.closed = asyncio.Event()
        self._reader = asyncio.ensure_future(self._read())

    @classmethod
    async def connect(cls, url: str, headers: dict[str, str] | None = None) -> Websocket:
        req = tornado.httpclient.HTTPRequest(url, headers=headers or {})
        conn = await tornado.websocket.websocket_connect(req)
        return cls(conn)

    async def _read(self) -> None:
        while True:
            msg = await self.conn.read_message()
            if msg is None:
                self.closed.set()
                for fut in self._pending.values():
                    if not fut.done():
                        fut.set_exception(ConnectionError("websocket closed"))
                return
            data = msgspec.json.decode(msg)
            if isinstance(data, dict) and "method" in data and "id" not in data:
                self.notifications.append(data)
                self._notified.set()
                continue
            if isinstance(data, dict) and data.get("id") in self._pending:
                fut = self._pending.pop(data["id"])
                if not fut.done():
                    fut.set_result(data)
                continue
            await self.raw_frames.put(data)

    async def send_raw(self, text: str | bytes) -> None:
        await self.conn.write_message(text)

    async def request(self, method: str, params: Any = None, *, timeout: float = 30) -> Any:
        self._next_id += 1
        req_id = self._next_id
        msg: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "id": req_id}
        if params is not None:
            msg["params"] = params
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[req_id] = fut
        await self.conn.write_message(msgspec.json.encode(msg).decode())
        return await asyncio.wait_for(fut, timeout)

    async def call(self, method: str, params: Any = None, *, timeout: float = 30) -> Any:
        reply = await self.request(method, params, timeout=timeout)
        if "error" in reply:
            raise RpcError(reply["error"]["code"], reply["error"]["message"])
        return reply["result"]

    async def wait_notification(
        self,
        method: str,
        predicate: Callable[[dict[str, Any]], bool] = lambda _: True,
        timeout: float = 30,
        start: int = 0,
    ) -> dict[str, Any]:
        """First notification `method` (at index >= start) matching `predicate`."""
        deadline = time.monotonic() + timeout
        index = start
        while True:
            while index < len(self.notifications):
                note = self.notifications[index]
                index += 1
                if note["method"] == method and predicate(note):
                    return note
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no {method} notification within {timeout}s")
            self._notified.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._notified.wait(), remaining)

    async def close(self) -> None:
        self.conn.close()
        # wait for the closing handshake so the socket is really closed
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._reader), 5)
        self._reader.cancel()
        with contextlib.suppress(BaseException):
            await self._reader


class RunningServer:
    def __init__(self, server: Server) -> None:
        self.server = server
        assert server.port is not None
        self.port = server.port
        self.base = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/websocket"
        self.http = Http(self.base)
        self._sockets: list[Websocket] = []

    async def websocket(self, headers: dict[str, str] | None = None) -> Websocket:
        ws = await Websocket.connect(self.ws_url, headers)
        self._sockets.append(ws)
        return ws

    async def close(self) -> None:
        for ws in self._sockets:
            await ws.close()
        self.http.close()


def write_config(data_dir: Path, text: str) -> Path:
    path = data_dir / "config" / "moonraker.conf"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@contextlib.asynccontextmanager
async def running_server(
    data_dir: Path, config: str = DEFAULT_CONFIG, **options: Any
) -> AsyncIterator[RunningServer]:
    write_config(data_dir, config)
    server = Server(ServerOptions(data_dir=data_dir, **options))
    listener = Listener.bind("127.0.0.1", 0)
    await server.start(listener)
    running = RunningServer(server)
    try:
        yield running
    finally:
        await running.close()
        await server.stop()
        listener.close()


class ServerProcess:
    """The server as a separate process (`python -m gateway`), for kill -9 and CLI tests."""

    def __init__(self, data_dir: Path, config: str = DEFAULT_CONFIG) -> None:
        self.data_dir = data_dir
        write_config(data_dir, config)
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.log_path = data_dir / "stderr.log"

    def start(
        self, timeout: float = 30, extra_args: list[str] | None = None, log_file: bool = False
    ) -> None:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        # stderr goes to a file: a pipe nobody drains would stall a chatty server
        self.log_path = self.data_dir / f"stderr-{time.monotonic_ns()}.log"
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "gateway", "-d", str(self.data_dir),
                 *([] if log_file else ["-n"]), *(extra_args or [])],
                stderr=log,
                stdout=subprocess.DEVNULL,
                env=env,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log_path.read_text(errors="replace")
            match = re.search(r"listening on [\d.]+:(\d+)", text)
            if match:
                self.port = int(match.group(1))
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.kill()
        raise RuntimeError("server did not start:\n" + self.log_path.read_text())

    @property
    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def terminate(self, timeout: float = 20, sig: signal.Signals = signal.SIGTERM) -> int:
        assert self.proc is not None
        self.proc.send_signal(sig)
        return self.proc.wait(timeout)
