"""Streams an upload into a hidden temp file without blocking the event loop.

Received pieces are queued and handed to a thread in ~1 MiB batches (one `writev` each;
the SHA-256, when wanted, is computed there too - hashlib releases the GIL). At most one
batch is being written while the next one fills: `drain()` returns an awaitable when
the caller must wait, which the HTTP handler returns to Tornado, so reading from the
socket pauses (TCP flow control) and memory stays flat whatever the upload size.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import os
import secrets
from pathlib import Path
from typing import Protocol

from .roots import TEMP_PREFIX

BATCH = 1024 * 1024
_IOV_MAX = 512
_HASH_BLOCK = 1024 * 1024

Buffer = bytes | memoryview


class _Hasher(Protocol):
    def update(self, data: Buffer, /) -> None: ...


def _write_all(fd: int, chunks: list[Buffer], hasher: _Hasher | None) -> None:
    if hasher is not None:
        for chunk in chunks:
            hasher.update(chunk)
    if len(chunks) > _IOV_MAX:
        chunks = [b"".join(chunks)]
    views = [memoryview(c) for c in chunks]
    while views:
        written = os.writev(fd, views)
        # a short write (signal, nearly full disk): continue after what went out
        while views and written >= len(views[0]):
            written -= len(views[0])
            views.pop(0)
        if views and written:
            views[0] = views[0][written:]


def sha256_file(path: Path) -> str:
    hasher = hashlib.sha256()
    with open(path, "rb", buffering=0) as f:
        buf = bytearray(_HASH_BLOCK)
        view = memoryview(buf)
        while n := f.readinto(buf):
            hasher.update(view[:n])
    return hasher.hexdigest()


class TempWriter:
    def __init__(
        self, directory: Path, executor: concurrent.futures.Executor, *, hash_inline: bool
    ) -> None:
        self.path = directory / f"{TEMP_PREFIX}{secrets.token_hex(8)}.part"
        self._executor = executor
        # O_EXCL: never write through a name someone else prepared
        self._fd: int | None = os.open(
            self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644
        )
        self._hasher = hashlib.sha256() if hash_inline else None
        self._pending: list[Buffer] = []
        self._pending_bytes = 0
        self._inflight: asyncio.Future[None] | None = None
        self.size = 0

    def write(self, data: Buffer) -> None:
        self._pending.append(data)
        self._pending_bytes += len(data)
        self.size += len(data)

    def drain(self) -> asyncio.Future[None] | None:
        """None if the caller may go on; else a future to wait for first."""
        if self._pending_bytes < BATCH:
            return None
        inflight = self._inflight
        if inflight is not None and not inflight.done():
            return asyncio.ensure_future(self._wait_then_submit(inflight))
        self._collect()
        self._submit()
        return None

    async def _wait_then_submit(self, inflight: asyncio.Future[None]) -> None:
        await asyncio.wait([inflight])
        self._collect()
        if self._pending_bytes >= BATCH:
            self._submit()

    def _collect(self) -> None:
        """Re-raise the error of the last batch (ENOSPC, EIO) in the caller."""
        inflight, self._inflight = self._inflight, None
        if inflight is not None:
            inflight.result()

    def _submit(self) -> None:
        assert self._fd is not None
        chunks, self._pending, self._pending_bytes = self._pending, [], 0
        loop = asyncio.get_running_loop()
        self._inflight = loop.run_in_executor(
            self._executor, _write_all, self._fd, chunks, self._hasher
        )

    async def close(self) -> str | None:
        """Write what is left and close; the SHA-256 if it was computed inline."""
        inflight = self._inflight
        if inflight is not None:
            await asyncio.wait([inflight])
        self._collect()
        if self._pending:
            self._submit()
            assert self._inflight is not None
            await asyncio.wait([self._inflight])
            self._collect()
        self._close_fd()
        return self._hasher.hexdigest() if self._hasher is not None else None

    def _close_fd(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _close_after(self, inflight: asyncio.Future[None]) -> None:
        if not inflight.cancelled():
            inflight.exception()  # retrieved: the upload is being thrown away anyway
        self._close_fd()

    def discard(self) -> None:
        """Remove the temp file now; a batch still being written lands in the unlinked
        inode and its fd is closed once it is done."""
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass
        self._pending = []
        inflight = self._inflight
        if inflight is not None and not inflight.done():
            inflight.add_done_callback(self._close_after)
        else:
            if inflight is not None:
                inflight.exception()
            self._close_fd()
