"""The door decides before it reads (issue 17 item 3): an untrusted client streaming a
huge chunked body at a registry route, an OctoPrint route or JSON-RPC over HTTP is
refused from its headers within a second - the body is never buffered, the server's
memory does not grow - while a trusted client is served meanwhile. Bodies of accepted
requests are capped, chunked or not. The server runs as its own process (its RSS is
what is measured); the untrusted client is bound to 127.0.0.2."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest

from bench.common import rss_mb
from tests.harness import ServerProcess

CONFIG = """
[server]
host: 127.0.0.1
port: 0
max_websocket_message_size: 1024

[authorization]
trusted_clients:
  127.0.0.1/32
"""
CHUNK = b"x" * (1024 * 1024)
TOTAL = 256 * 1024 * 1024


class Streamer:
    """Sends a request with a chunked body of `TOTAL` bytes from a thread while another
    reads the answer: how long the answer took, what it was, how much was sent."""

    def __init__(self, port: int, source: str, request_head: bytes) -> None:
        self.sock = socket.socket()
        self.sock.bind((source, 0))
        self.sock.settimeout(10)
        self.sock.connect(("127.0.0.1", port))
        self.head = request_head
        self.sent = 0
        self.answer = b""
        self.answered_after: float | None = None

    def _send(self) -> None:
        try:
            self.sock.sendall(self.head)
            while self.sent < TOTAL and self.answered_after is None:
                self.sock.sendall(b"%x\r\n%s\r\n" % (len(CHUNK), CHUNK))
                self.sent += len(CHUNK)
            self.sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server closed the connection after its answer: as it should

    def run(self) -> None:
        start = time.monotonic()
        sender = threading.Thread(target=self._send, daemon=True)
        sender.start()
        try:
            while b"\r\n\r\n" not in self.answer:
                data = self.sock.recv(65536)
                if not data:
                    break
                self.answer += data
            self.answered_after = time.monotonic() - start
            # the rest of the (small) answer body
            self.sock.settimeout(2)
            while True:
                data = self.sock.recv(65536)
                if not data:
                    break
                self.answer += data
        except OSError:
            pass
        finally:
            if self.answered_after is None:
                self.answered_after = time.monotonic() - start
            sender.join(10)
            self.sock.close()


def chunked_post(path: str, port: int, content_type: str = "application/json") -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: {content_type}\r\nTransfer-Encoding: chunked\r\n\r\n").encode()


def trusted_get(port: int, path: str = "/server/info") -> tuple[float, bytes]:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    start = time.monotonic()
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                 "Connection: close\r\n\r\n".encode())
    answer = b""
    while b"\r\n\r\n" not in answer:
        data = sock.recv(65536)
        if not data:
            break
        answer += data
    elapsed = time.monotonic() - start
    sock.close()
    return elapsed, answer


@pytest.fixture
def server(tmp_path: Path) -> ServerProcess:
    proc = ServerProcess(tmp_path, CONFIG)
    proc.start()
    yield proc
    proc.kill()


MULTIPART = "multipart/form-data; boundary=----skysail"


@pytest.mark.parametrize(("path", "status", "content_type"), [
    ("/server/files/directory?path=gcodes/x", b"401", "application/json"),  # registry
    ("/api/job", b"403", "application/json"),      # an OctoPrint route (its 403)
    ("/server/jsonrpc", b"401", "application/json"),  # JSON-RPC over HTTP
    ("/plugin/continuousprint/set/add", b"401", "application/json"),  # a plugin route
    # the streaming upload routes check before they stream
    ("/server/files/upload", b"401", MULTIPART),
    ("/api/files/local", b"403", MULTIPART),
])
def test_an_untrusted_huge_chunked_body_is_refused_from_the_headers(
    server: ServerProcess, path: str, status: bytes, content_type: str
) -> None:
    assert server.proc is not None
    pid, port = server.proc.pid, server.port
    # warm up (first requests allocate caches), then measure
    for _ in range(3):
        trusted_get(port)
    before = rss_mb(pid)
    streamer = Streamer(port, "127.0.0.2", chunked_post(path, port, content_type))
    worker = threading.Thread(target=streamer.run)
    worker.start()
    # a trusted client is served meanwhile, promptly
    latencies = []
    while worker.is_alive() or not latencies:
        elapsed, answer = trusted_get(port)
        assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
        latencies.append(elapsed)
        if len(latencies) >= 20:
            break
    worker.join(20)
    assert streamer.answer.startswith(b"HTTP/1.1 " + status), streamer.answer[:300]
    assert streamer.answered_after is not None and streamer.answered_after < 1.0
    assert b"Connection: close" in streamer.answer or streamer.sent < TOTAL
    # far less than the body was ever sent: the server stopped reading
    assert streamer.sent < 64 * 1024 * 1024, streamer.sent
    assert rss_mb(pid) - before < 16, (before, rss_mb(pid))
    assert max(latencies) < 0.05, latencies
    # and nothing changed on disk (the registry route would have made gcodes/x)
    gcodes = server.data_dir / "gcodes"
    assert not gcodes.exists() or [p.name for p in gcodes.iterdir()] == []


def test_a_trusted_body_over_the_cap_is_refused_chunked_or_not(server: ServerProcess) -> None:
    assert server.proc is not None
    pid, port = server.proc.pid, server.port
    before = rss_mb(pid)
    streamer = Streamer(port, "127.0.0.1", chunked_post("/server/database/item", port))
    streamer.run()
    assert streamer.answer.startswith(b"HTTP/1.1 413"), streamer.answer[:300]
    assert b"larger than 1048576 bytes" in streamer.answer
    assert streamer.answered_after is not None and streamer.answered_after < 5
    # announced too large: refused before a byte is read
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(f"POST /server/database/item HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                 f"Content-Type: application/json\r\nContent-Length: {TOTAL}\r\n\r\n".encode())
    assert sock.recv(65536).startswith(b"HTTP/1.1 413")
    sock.close()
    assert rss_mb(pid) - before < 16
    # a route that takes no body at all (a download, a websocket upgrade) takes little
    streamer = Streamer(port, "127.0.0.1",
                        f"GET /server/files/gcodes/x.gcode HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                        "Transfer-Encoding: chunked\r\n\r\n".encode())
    streamer.run()
    assert streamer.answer.startswith(b"HTTP/1.1 413"), streamer.answer[:300]
    assert rss_mb(pid) - before < 16
