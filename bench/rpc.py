"""Websocket JSON-RPC benchmark: `server.info` sequential latency, 64-in-flight throughput,
and server CPU µs per request read from /proc.

    python -m bench.rpc                      # starts its own Skysail
    python -m bench.rpc --url ws://127.0.0.1:7125/websocket --pid PID   # any server
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

import msgspec
import tornado.websocket

from bench.common import SkysailProcess, cpu_seconds, percentile, rss_mb


async def run(url: str, pid: int, sequential: int, pipelined: int, window: int) -> dict[str, float]:
    ws = await tornado.websocket.websocket_connect(url)
    encode = msgspec.json.encode
    decode = msgspec.json.decode

    async def call(req_id: int) -> None:
        await ws.write_message(
            encode({"jsonrpc": "2.0", "method": "server.info", "id": req_id}).decode()
        )

    async def reply() -> dict[str, Any]:
        # notifications (proc stats every second) are not answers
        while True:
            msg = await ws.read_message()
            assert msg is not None, "websocket closed"
            data = decode(msg)
            if "id" in data:
                return data  # type: ignore[no-any-return]

    for i in range(200):  # warm-up
        await call(i)
        await reply()

    latencies: list[float] = []
    cpu0 = cpu_seconds(pid)
    for i in range(sequential):
        t0 = time.perf_counter()
        await call(i)
        answer = await reply()
        latencies.append(time.perf_counter() - t0)
        assert answer["id"] == i, answer
    seq_cpu = cpu_seconds(pid) - cpu0

    cpu0 = cpu_seconds(pid)
    t0 = time.perf_counter()
    sent = 0
    received = 0
    while sent < min(window, pipelined):
        await call(sent)
        sent += 1
    while received < pipelined:
        await reply()
        received += 1
        if sent < pipelined:
            await call(sent)
            sent += 1
    elapsed = time.perf_counter() - t0
    pipe_cpu = cpu_seconds(pid) - cpu0
    ws.close()
    return {
        "seq_p50_us": percentile(latencies, 50) * 1e6,
        "seq_p99_us": percentile(latencies, 99) * 1e6,
        "seq_server_cpu_us": seq_cpu / sequential * 1e6,
        "pipelined_rps": pipelined / elapsed,
        "pipelined_server_cpu_us": pipe_cpu / pipelined * 1e6,
        "rss_mb": rss_mb(pid),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url")
    parser.add_argument("--pid", type=int)
    parser.add_argument("--sequential", type=int, default=5000)
    parser.add_argument("--pipelined", type=int, default=20000)
    parser.add_argument("--window", type=int, default=64)
    args = parser.parse_args()
    if args.url:
        result = asyncio.run(run(args.url, args.pid, args.sequential, args.pipelined, args.window))
        idle = None
    else:
        with SkysailProcess() as sk:
            time.sleep(3)  # let start-up settle before reading idle memory
            idle = rss_mb(sk.pid)
            result = asyncio.run(
                run(f"ws://127.0.0.1:{sk.port}/websocket", sk.pid, args.sequential,
                    args.pipelined, args.window)
            )
    if idle is not None:
        print(f"idle RSS: {idle:.1f} MB")
    print(f"sequential server.info: p50 {result['seq_p50_us']:.0f} µs, "
          f"p99 {result['seq_p99_us']:.0f} µs, server CPU {result['seq_server_cpu_us']:.1f} µs/req")
    print(f"{args.window} in flight: {result['pipelined_rps']:.0f} req/s, "
          f"server CPU {result['pipelined_server_cpu_us']:.1f} µs/req")
    print(f"RSS after run: {result['rss_mb']:.1f} MB")


if __name__ == "__main__":
    main()
