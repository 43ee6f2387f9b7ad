"""A request whose line or header block is over the limit (64 KiB) gets an answer - 414
for the request line, 431 for the headers - never a silently closed connection
(issue 18: no request goes unanswered); the answer survives a client that is still
sending."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import pytest

from tests.harness import RunningServer, running_server

LIMIT = 65536


@pytest.fixture
async def srv(tmp_path: Path) -> AsyncIterator[RunningServer]:
    async with running_server(tmp_path) as running:
        yield running


async def exchange(srv: RunningServer, head: bytes
                   ) -> tuple[bytes, asyncio.StreamReader, asyncio.StreamWriter]:
    """Send `head`; the answer (headers and the announced body)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", srv.port)
    writer.write(head)
    answer = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    length = int(next(line.split(b":")[1] for line in answer.split(b"\r\n")
                      if line.lower().startswith(b"content-length")))
    answer += await asyncio.wait_for(reader.readexactly(length), 10)
    return answer, reader, writer


def error_of(answer: bytes) -> dict[str, object]:
    error: dict[str, object] = msgspec.json.decode(answer.split(b"\r\n\r\n", 1)[1])["error"]
    return error


async def test_a_request_line_over_the_limit_is_answered_414(srv: RunningServer) -> None:
    head = f"GET /server/info?x={'a' * 70000} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
    answer, reader, writer = await exchange(srv, head)
    assert answer.startswith(b"HTTP/1.1 414 URI Too Long\r\n"), answer[:200]
    assert b"Connection: close" in answer
    assert error_of(answer) == {"code": 414,
                                "message": f"Request line longer than {LIMIT} bytes"}
    # the server closes its side: nothing more comes
    assert await asyncio.wait_for(reader.read(), 10) == b""
    writer.close()


async def test_headers_over_the_limit_are_answered_431(srv: RunningServer) -> None:
    head = (b"GET /server/info HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            + b"".join(b"X-Filler-%d: %s\r\n" % (i, b"y" * 1000) for i in range(70))
            + b"\r\n")
    answer, _, writer = await exchange(srv, head)
    assert answer.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n"), answer[:200]
    assert error_of(answer)["message"] == f"Request headers larger than {LIMIT} bytes"
    writer.close()


def blocking_client(port: int, out: list[bytes]) -> None:
    """Sends 4 MiB of request line before it reads (a client busy writing)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        with contextlib.suppress(OSError):  # the server stops reading: a broken pipe
            sock.sendall(b"GET /server/info?x=" + b"a" * 100_000)
            for _ in range(64):
                sock.sendall(b"x" * 65536)
        out.append(sock.recv(4096))
    finally:
        sock.close()


async def test_the_answer_reaches_a_client_that_is_still_sending(srv: RunningServer) -> None:
    out: list[bytes] = []
    await asyncio.to_thread(blocking_client, srv.port, out)
    assert out and out[0].startswith(b"HTTP/1.1 414"), out
    assert error_of(out[0])["code"] == 414
    # and the server is fine afterwards
    assert (await srv.http.get("/server/info")).status == 200


async def test_headers_under_the_limit_are_served(srv: RunningServer) -> None:
    head = (f"GET /server/info?x={'a' * 60000} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Connection: close\r\n\r\n").encode()
    answer, _, writer = await exchange(srv, head)
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n"), answer[:200]
    writer.close()
