"""HTTP benchmark: GET /server/info over 8 keep-alive connections; server CPU µs per request.

    python -m bench.http                         # starts its own Skysail
    python -m bench.http --host 127.0.0.1 --port 7125 --pid PID   # any server
"""

from __future__ import annotations

import argparse
import asyncio
import time

from bench.common import SkysailProcess, cpu_seconds, percentile


async def client(host: str, port: int, path: str, count: int, latencies: list[float]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
    for _ in range(count):
        t0 = time.perf_counter()
        writer.write(request)
        length = 0
        while True:
            line = await reader.readline()
            if line in (b"\r\n", b""):
                break
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        await reader.readexactly(length)
        latencies.append(time.perf_counter() - t0)
    writer.close()
    await writer.wait_closed()


async def run(host: str, port: int, pid: int, connections: int, total: int) -> None:
    warm: list[float] = []
    await client(host, port, "/server/info", 200, warm)
    latencies: list[float] = []
    per = total // connections
    cpu0 = cpu_seconds(pid)
    t0 = time.perf_counter()
    await asyncio.gather(
        *(client(host, port, "/server/info", per, latencies) for _ in range(connections))
    )
    elapsed = time.perf_counter() - t0
    cpu = cpu_seconds(pid) - cpu0
    n = per * connections
    print(f"GET /server/info, {connections} connections, {n} requests: {n / elapsed:.0f} req/s, "
          f"p50 {percentile(latencies, 50) * 1e6:.0f} µs, "
          f"server CPU {cpu / n * 1e6:.1f} µs/req")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int)
    parser.add_argument("--pid", type=int)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--requests", type=int, default=20000)
    args = parser.parse_args()
    if args.port:
        asyncio.run(run(args.host, args.port, args.pid, args.connections, args.requests))
        return
    with SkysailProcess() as sk:
        asyncio.run(run("127.0.0.1", sk.port, sk.pid, args.connections, args.requests))


if __name__ == "__main__":
    main()
