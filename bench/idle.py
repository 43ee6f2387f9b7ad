"""Idle cost: a server's CPU seconds per minute with a printer connected and one frontend
subscribed, doing nothing.

Skysail: started as its own process on the pty of a virtual printer that runs in another
process (temperature auto-report every second, as a real Marlin with M155 S1), so the
printer's simulation is not counted. One websocket client identifies itself and
subscribes to every printer object, as Mainsail does. After a warm-up, the server's
utime + stime (from /proc/<pid>/stat) over --seconds is scaled to a minute.

Moonraker (for the side-by-side figure): `--url ws://127.0.0.1:7125/websocket --pid
<moonraker pid>`: the same client against a running Moonraker (it has no Klippy, so the
subscription is refused; the client stays connected and identified).

Run:  .venv/bin/python -m bench.idle [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.harness import ServerProcess, Websocket

ROOT = Path(__file__).resolve().parent.parent


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime, stime


async def client(url: str) -> Websocket:
    ws = await Websocket.connect(url)
    await ws.call("server.connection.identify", {
        "client_name": "bench-idle", "version": "1.0", "type": "web", "url": "http://x"})
    try:
        listed = await ws.call("printer.objects.list")
        objects = dict.fromkeys(listed["objects"])
        await ws.call("printer.objects.subscribe", {"objects": objects})
    except Exception as exc:  # Moonraker without Klippy
        print(f"(no printer subscription: {exc})")
    return ws


async def measure(url: str, pid: int, seconds: float, warmup: float) -> float:
    ws = await client(url)
    await asyncio.sleep(warmup)
    frames = len(ws.notifications)
    c0, t0 = cpu_seconds(pid), time.monotonic()
    await asyncio.sleep(seconds)
    c1, t1 = cpu_seconds(pid), time.monotonic()
    pushed = len(ws.notifications) - frames
    await ws.close()
    per_minute = (c1 - c0) / (t1 - t0) * 60
    print(f"CPU {c1 - c0:.3f} s over {t1 - t0:.1f} s = {per_minute:.3f} CPU s per minute; "
          f"{pushed} notifications; load average {os.getloadavg()[0]:.2f}")
    return per_minute


def start_printer() -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "gateway.hostlink.virtual", "--baud", "250000"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=ROOT)


async def skysail(seconds: float, warmup: float) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-idle-"))
    vp = start_printer()
    assert vp.stdout is not None
    port = vp.stdout.readline().decode().strip()
    server = ServerProcess(tmp, f"""
[server]
host: 127.0.0.1
port: 0

[serial]
port: {port}
baud: 250000
temperature_report_interval: 1
""")
    server.start()
    try:
        assert server.proc is not None
        await measure(f"ws://127.0.0.1:{server.port}/websocket", server.proc.pid, seconds,
                      warmup)
    finally:
        server.terminate()
        vp.send_signal(signal.SIGINT)
        vp.wait(10)
        assert vp.stdout is not None
        vp.stdout.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--warmup", type=float, default=10.0)
    parser.add_argument("--url", help="measure a running server (Moonraker) instead")
    parser.add_argument("--pid", type=int, help="its process id")
    args = parser.parse_args()
    if args.url:
        if args.pid is None:
            raise SystemExit("--url needs --pid")
        await measure(args.url, args.pid, args.seconds, args.warmup)
    else:
        await skysail(args.seconds, args.warmup)


if __name__ == "__main__":
    asyncio.run(main())
