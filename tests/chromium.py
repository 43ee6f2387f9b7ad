"""Headless Debian Chromium driven over the DevTools protocol (no extra packages)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import tornado.httpclient
import tornado.websocket

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--remote-debugging-port=0",
    "--remote-allow-origins=*",
]


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class Page:
    def __init__(self, ws: tornado.websocket.WebSocketClientConnection) -> None:
        self.ws = ws
        self._ids = itertools.count(1)

    async def send(self, method: str, params: dict[str, Any] | None = None) -> Any:
        msg_id = next(self._ids)
        await self.ws.write_message(
            msgspec.json.encode({"id": msg_id, "method": method, "params": params or {}}).decode()
        )
        while True:
            raw = await self.ws.read_message()
            if raw is None:
                raise ConnectionError("DevTools connection closed")
            data = msgspec.json.decode(raw)
            if data.get("id") == msg_id:
                if "error" in data:
                    raise RuntimeError(data["error"])
                return data.get("result")

    async def evaluate(self, expression: str) -> Any:
        result = await self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in result:
            raise RuntimeError(result["exceptionDetails"])
        return result["result"].get("value")

    async def wait_for(self, expression: str, timeout: float = 20) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            try:
                value = await self.evaluate(expression)
            except RuntimeError:
                value = None  # the page is still navigating; its globals are not there yet
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"page never satisfied: {expression}")
            await asyncio.sleep(0.05)

    async def screenshot(self, path: Path) -> None:
        import base64

        data = await self.send("Page.captureScreenshot", {"format": "png"})
        _write(path, base64.b64decode(data["data"]))


@contextlib.asynccontextmanager
async def open_page(url: str) -> AsyncIterator[Page]:
    binary = find_chromium()
    if binary is None:
        raise RuntimeError("chromium is not installed (apt-get install chromium)")
    profile = tempfile.mkdtemp(prefix="skysail-chromium-")
    proc = _launch(binary, profile)
    try:
        assert proc.stderr is not None
        port = await asyncio.get_running_loop().run_in_executor(None, devtools_port, proc)
        client = tornado.httpclient.AsyncHTTPClient(force_instance=True)
        try:
            resp = await client.fetch(f"http://127.0.0.1:{port}/json/list")
            targets = msgspec.json.decode(resp.body)
        finally:
            client.close()
        target = next(t for t in targets if t.get("type") == "page")
        ws = await tornado.websocket.websocket_connect(target["webSocketDebuggerUrl"],
                                                       max_message_size=64 * 1024 * 1024)
        page = Page(ws)
        await page.send("Page.enable")
        await page.send("Page.navigate", {"url": url})
        try:
            yield page
        finally:
            ws.close()
            # wait for the closing handshake: a socket left open is collected later,
            # in another test's loop (ResourceWarning there)
            with contextlib.suppress(Exception):
                async with asyncio.timeout(5):
                    while await ws.read_message() is not None:
                        pass
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        if proc.stderr:
            proc.stderr.close()
        shutil.rmtree(profile, ignore_errors=True)


def _write(path: Path, data: bytes) -> None:
    path.write_bytes(data)


def _launch(binary: str, profile: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=dict(os.environ),
    )


def devtools_port(proc: subprocess.Popen[bytes]) -> int:
    assert proc.stderr is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stderr.readline().decode(errors="replace")
        if not line and proc.poll() is not None:
            break
        match = re.search(r"DevTools listening on ws://[^:]+:(\d+)/", line)
        if match:
            return int(match.group(1))
    raise RuntimeError("chromium did not start its DevTools endpoint")
