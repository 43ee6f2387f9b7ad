"""Files benchmark: 100 MB upload speed and server CPU, metadata latency.

    .venv/bin/python -m bench.files                    # starts its own Skysail process
    .venv/bin/python -m bench.files --size-mb 100 --runs 5
    .venv/bin/python -m bench.files --host 127.0.0.1 --port 7125 --pid PID --gcodes DIR

Measures, against a server running as its own process:
* upload: a realistic ~100 MB PrusaSlicer-style G-code file (thumbnails in the header,
  statistics and config at the end) POSTed to /server/files/upload over a raw socket;
  MB/s = file bytes / (first byte sent -> 201 reply read); server CPU seconds from
  /proc/<pid>/stat around each upload;
* metadata after upload: 201 reply read -> first successful server.files.metadata;
* metadata after a copy by other means: file copied into gcodes (complete, renamed into
  place) -> first successful server.files.metadata (polled every 1 ms).

Each uploaded file is deleted (DELETE /server/files/gcodes/...) after its run, outside the
timed part, unless --keep: on this VM writing into never-touched page cache costs ~4x
more kernel CPU than reusing freed pages, so --keep measures a cold host and the default
a host that has been up for a while (see docs/files.md).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import socket
import statistics
import tempfile
import time
from pathlib import Path

from bench.common import SkysailProcess, cpu_seconds
from tests.files_metadata.bench_metadata import build

BOUNDARY = "----skysailBenchBoundary"
BLOCK = 1024 * 1024


def upload(
    host: str, port: int, path: Path, name: str
) -> tuple[float, float, float, dict[str, object]]:
    """(seconds to the reply, last byte sent, reply time, reply) of one multipart upload."""
    size = path.stat().st_size
    head_part = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="root"\r\n\r\ngcodes\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="{name}"\r\nContent-Type: application/octet-stream\r\n\r\n'
    ).encode()
    tail_part = f"\r\n--{BOUNDARY}--\r\n".encode()
    length = len(head_part) + size + len(tail_part)
    request = (
        f"POST /server/files/upload HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode()
    data = path.read_bytes()  # read before timing: the client's disk is not measured
    with socket.create_connection((host, port)) as sock:
        t0 = time.perf_counter()
        sock.sendall(request + head_part)
        view = memoryview(data)
        for pos in range(0, size, BLOCK):
            sock.sendall(view[pos:pos + BLOCK])
        sock.sendall(tail_part)
        sent = time.perf_counter()
        reply = b""
        while b"\r\n\r\n" not in reply:
            reply += sock.recv(65536)
        head, _, body = reply.partition(b"\r\n\r\n")
        want = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length")))
        while len(body) < want:
            body += sock.recv(65536)
        t1 = time.perf_counter()
    status = int(head.split()[1])
    if status != 201:
        raise RuntimeError(f"upload failed: {status} {body!r}")
    return t1 - t0, sent, t1, json.loads(body)


def metadata_ready(conn: http.client.HTTPConnection, name: str) -> bool:
    conn.request("GET", f"/server/files/metadata?filename={name}")
    resp = conn.getresponse()
    resp.read()
    return resp.status == 200


def wait_metadata(conn: http.client.HTTPConnection, name: str, since: float) -> float:
    deadline = since + 30
    while not metadata_ready(conn, name):
        if time.perf_counter() > deadline:
            raise RuntimeError(f"no metadata for {name}")
        time.sleep(0.001)
    return time.perf_counter() - since


def cpu_split(pid: int) -> tuple[float, float]:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tck = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tck, int(fields[12]) / tck


def delete(conn: http.client.HTTPConnection, name: str) -> None:
    conn.request("DELETE", f"/server/files/gcodes/{name}")
    resp = conn.getresponse()
    resp.read()


def run(
    host: str, port: int, pid: int, gcodes: Path, size_mb: int, runs: int, keep: bool = False
) -> None:
    with tempfile.TemporaryDirectory(prefix="skysail-bench-files-") as tmp:
        source = Path(tmp) / "bench.gcode"
        build(source, size_mb)
        size = source.stat().st_size
        conn = http.client.HTTPConnection(host, port)
        upload(host, port, source, "warmup.gcode")
        if not keep:
            delete(conn, "warmup.gcode")
        speeds: list[float] = []
        cpus: list[float] = []
        users: list[float] = []
        after_upload: list[float] = []
        after_sent: list[float] = []
        for i in range(runs):
            cpu0, split0 = cpu_seconds(pid), cpu_split(pid)
            elapsed, sent, replied, _ = upload(host, port, source, f"up{i}.gcode")
            # metadata first: the clock runs from the reply (its CPU is a fraction of a ms)
            after_upload.append(wait_metadata(conn, f"up{i}.gcode", replied))
            # the upload is complete when its last byte is sent: the reply waits for the
            # server to check, rename and describe the file
            after_sent.append(after_upload[-1] + replied - sent)
            cpu1, split1 = cpu_seconds(pid), cpu_split(pid)
            speeds.append(size / elapsed / 1e6)
            cpus.append(cpu1 - cpu0)
            users.append(split1[0] - split0[0])
            if not keep:
                delete(conn, f"up{i}.gcode")
        after_copy: list[float] = []
        for i in range(runs):
            # a copy by other means: complete elsewhere, then renamed into gcodes
            staged = gcodes / f".staging{i}"
            shutil.copyfile(source, staged)
            final = gcodes / f"copied{i}.gcode"
            os.replace(staged, final)
            after_copy.append(wait_metadata(conn, final.name, time.perf_counter()))
            if not keep:
                delete(conn, final.name)
        conn.close()
    print(f"file: {size / 1e6:.1f} MB, {runs} runs, {'kept' if keep else 'deleted'} after each")
    print(f"upload MB/s: median {statistics.median(speeds):.0f} "
          f"(min {min(speeds):.0f}, max {max(speeds):.0f})")
    print(f"server CPU s per upload: median {statistics.median(cpus):.3f} "
          f"(min {min(cpus):.3f}, max {max(cpus):.3f}; user median "
          f"{statistics.median(users):.3f})")
    print(f"metadata after upload reply ms: median {statistics.median(after_upload) * 1e3:.1f} "
          f"(max {max(after_upload) * 1e3:.1f})")
    print(f"metadata after the last byte was sent ms: median "
          f"{statistics.median(after_sent) * 1e3:.1f} (max {max(after_sent) * 1e3:.1f})")
    print(f"metadata after copy ms: median {statistics.median(after_copy) * 1e3:.1f} "
          f"(max {max(after_copy) * 1e3:.1f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int)
    parser.add_argument("--pid", type=int)
    parser.add_argument("--gcodes", type=Path, help="the server's gcodes folder")
    parser.add_argument("--size-mb", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the uploaded files")
    args = parser.parse_args()
    if args.port:
        if not args.pid or not args.gcodes:
            parser.error("--port needs --pid and --gcodes")
        run(args.host, args.port, args.pid, args.gcodes, args.size_mb, args.runs, args.keep)
        return
    with SkysailProcess() as proc:
        run("127.0.0.1", proc.port, proc.pid, proc.data_dir / "gcodes", args.size_mb, args.runs,
            args.keep)


if __name__ == "__main__":
    main()
