"""Shared by the files tests: a running server, multipart bodies, raw HTTP sockets."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from tests.harness import RunningServer, running_server

SAMPLES = Path(__file__).resolve().parent.parent / "files_metadata" / "samples"
BOUNDARY = "----skysailTestBoundary7MA4YWxkTrZu0gW"


def multipart(
    fields: dict[str, str],
    filename: str | None,
    data: bytes = b"",
    *,
    file_first: bool = False,
    boundary: str = BOUNDARY,
) -> tuple[bytes, dict[str, str]]:
    """A multipart/form-data body (fields before the file unless file_first)."""
    parts: list[bytes] = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + value.encode()
            + b"\r\n"
        )
    if filename is not None:
        file_part = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
            + data
            + b"\r\n"
        )
        if file_first:
            parts.insert(0, file_part)
        else:
            parts.append(file_part)
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


async def upload(
    srv: RunningServer, filename: str, data: bytes, **fields: str
) -> tuple[int, Any]:
    body, headers = multipart(fields, filename, data)
    reply = await srv.http.post("/server/files/upload", body=body, headers=headers)
    return reply.status, reply.json()


def leftovers(root: Path) -> list[str]:
    """Upload temp files anywhere under `root`."""
    return [str(p) for p in root.rglob(".skysail-upload-*")]


class RawHttp:
    """A raw HTTP/1.1 connection, for bodies no client library would send."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, port: int) -> RawHttp:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def read_response(self, timeout: float = 30) -> tuple[int, dict[str, str], bytes]:
        head = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), timeout)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if ":" in line:
                key, _, value = line.partition(":")
                headers[key.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        try:
            body = await asyncio.wait_for(self.reader.readexactly(length), timeout)
        except ConnectionResetError:
            # a server that refuses the rest of a body closes while we still send: the
            # reset may overtake the end of its reply (we have the status line)
            body = b""
        return status, headers, body

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()


def request_head(path: str, headers: dict[str, str], content_length: int | None) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if content_length is not None:
        lines.append(f"Content-Length: {content_length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def decode(body: bytes) -> Any:
    return msgspec.json.decode(body)


@pytest.fixture
async def srv(tmp_path: Path) -> AsyncIterator[RunningServer]:
    async with running_server(tmp_path) as running:
        yield running


def sample_bytes(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def set_mtime(path: Path, when: float) -> None:
    os.utime(path, (when, when))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "slow: the 1 GB upload (about 10 s); deselect with -m 'not slow'"
    )
