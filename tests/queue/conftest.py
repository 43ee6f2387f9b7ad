"""Shared by the queue tests: G-code files and a condition waiter."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from tests.harness import RunningServer, running_server

QUEUE_CONFIG = """
[server]
host: 127.0.0.1
port: 0

[serial]
port: virtual
virtual_time_scale: 25
"""


def make_gcodes(data_dir: Path, *names: str) -> None:
    for name in names:
        path = data_dir / "gcodes" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("; queue test\nG28\nG1 X10 F3000\n")


async def wait_until(predicate: Callable[[], object], timeout: float = 20.0,
                     what: str = "condition") -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


@asynccontextmanager
async def served(data_dir: Path, config: str = QUEUE_CONFIG) -> AsyncIterator[RunningServer]:
    """running_server, once the (virtual) printer is connected: stopping the printer
    mid-handshake leaves an unretrieved future behind (a host link matter, reported)."""
    async with running_server(data_dir, config) as srv:
        await wait_until(lambda: srv.server.klippy_state == "ready", what="printer ready")
        yield srv
