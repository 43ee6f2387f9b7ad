"""THE BIG ONE: a 1 GB upload to a server process keeps its memory flat.

The body is generated on the fly by the client (one 1 MiB block sent again and again
over a raw socket), the server's RSS is sampled from /proc/<pid>/status while it
streams, and the file must arrive whole (size and SHA-256).
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import threading
import time
from pathlib import Path

import pytest

from tests.harness import ServerProcess

from .conftest import BOUNDARY

SIZE = 1_000_000_000
BLOCK = 1024 * 1024
RSS_BUDGET_MB = 64

CONFIG = """
[server]
host: 127.0.0.1
port: 0
max_upload_size: 1100
"""


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def send_upload(port: int, filename: str, size: int, block: bytes) -> tuple[int, dict[str, object]]:
    head_part = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="root"\r\n\r\ngcodes\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
    ).encode()
    tail_part = f"\r\n--{BOUNDARY}--\r\n".encode()
    length = len(head_part) + size + len(tail_part)
    request = (
        f"POST /server/files/upload HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 * 1024 * 1024)
        sock.sendall(request + head_part)
        view = memoryview(block)
        left = size
        while left:
            n = min(left, len(block))
            sock.sendall(view[:n])
            left -= n
        sock.sendall(tail_part)
        reply = b""
        while b"\r\n\r\n" not in reply:
            reply += sock.recv(65536)
        head, _, body = reply.partition(b"\r\n\r\n")
        status = int(head.split()[1])
        want = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length")))
        while len(body) < want:
            body += sock.recv(65536)
    return status, json.loads(body)


@pytest.mark.slow
def test_one_gigabyte_upload_keeps_server_memory_flat(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path, CONFIG)
    server.start()
    try:
        assert server.proc is not None
        pid = server.proc.pid
        block = os.urandom(BLOCK)
        # warm up: code paths, thread pools and buffers exist before the baseline
        status, _ = send_upload(server.port, "warmup.gcode", 8 * BLOCK, block)
        assert status == 201
        baseline = rss_mb(pid)
        peak = baseline
        result: dict[str, tuple[int, dict[str, object]]] = {}

        def client() -> None:
            result["reply"] = send_upload(server.port, "big.gcode", SIZE, block)

        thread = threading.Thread(target=client)
        started = time.monotonic()
        thread.start()
        while thread.is_alive():
            peak = max(peak, rss_mb(pid))
            thread.join(0.05)
        elapsed = time.monotonic() - started
        status, reply = result["reply"]
        assert status == 201, reply
        item = reply["item"]
        assert isinstance(item, dict) and item["size"] == SIZE
        print(f"\n1 GB upload: {SIZE / elapsed / 1e6:.0f} MB/s, "
              f"RSS {baseline:.0f} -> peak {peak:.0f} MB")
        assert peak - baseline < RSS_BUDGET_MB, (baseline, peak)
        # the file is whole: the same block, over and over
        big = tmp_path / "gcodes" / "big.gcode"
        assert big.stat().st_size == SIZE
        expected = hashlib.sha256()
        for _ in range(SIZE // BLOCK):
            expected.update(block)
        expected.update(block[: SIZE % BLOCK])
        actual = hashlib.sha256()
        with open(big, "rb") as f:
            while chunk := f.read(8 * BLOCK):
                actual.update(chunk)
        assert actual.hexdigest() == expected.hexdigest()
        assert list((tmp_path / "gcodes").glob(".skysail-upload-*")) == []
    finally:
        server.terminate()
