"""Status fan-out: a temperature report written by the firmware reaches N subscribed
websocket clients. Measures, per report, firmware write → client receipt latency
(p50/p95/p99 over every client and report) and the spread first-to-last client.

The bench plays the firmware on a pseudo-terminal: it answers Skysail's handshake, then
writes temperature reports at moments it records. Skysail runs as its own process on that
port. The clients subscribe to every printer object, as Mainsail and Fluidd do, and stamp
each frame in data_received, before parsing.

    python -m bench.fanout --clients 40 --reports 200
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import re
import threading
import time
import tty

import msgspec

from bench.common import SkysailProcess, cpu_seconds, percentile

_LINE = re.compile(r"^(?:N\d+ )?(.*?)(?:\*\d+)?$")


class Firmware(threading.Thread):
    """Just enough Marlin for the handshake; every command gets `ok`."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.path = os.ttyname(self.slave)
        self.ready = threading.Event()
        self._lock = threading.Lock()
        self._stop = False

    def write(self, text: str) -> float:
        with self._lock:
            t0 = time.monotonic()
            os.write(self.master, text.encode())
        return t0

    def run(self) -> None:
        buf = b""
        while not self._stop:
            try:
                data = os.read(self.master, 4096)
            except OSError:
                return
            buf += data
            while b"\n" in buf:
                raw, buf = buf.split(b"\n", 1)
                command = _LINE.match(raw.decode(errors="replace").strip())
                word = command.group(1).split(" ")[0] if command else ""
                if word == "M115":
                    self.write("FIRMWARE_NAME:Marlin 2.1.2 (bench) MACHINE_TYPE:Bench "
                               "EXTRUDER_COUNT:1\nCap:AUTOREPORT_TEMP:1\n"
                               "Cap:EMERGENCY_PARSER:0\nok\n")
                elif word == "M155":
                    self.write("ok\n")
                    self.ready.set()
                else:
                    self.write("ok\n")


class Client(asyncio.Protocol):
    """A minimal websocket client: frames are stamped on arrival, then parsed."""

    def __init__(self, arrivals: list[tuple[float, float]]) -> None:
        self.arrivals = arrivals
        self.buf = b""
        self.handshake = True
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.replies: asyncio.Queue[dict[str, object]] = asyncio.Queue()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        self.buf += data
        if self.handshake:
            if b"\r\n\r\n" not in self.buf:
                return
            _, self.buf = self.buf.split(b"\r\n\r\n", 1)
            self.handshake = False
            self.opened.set_result(None)
        while len(self.buf) >= 2:
            length = self.buf[1] & 0x7F
            head = 2
            if length == 126:
                length = int.from_bytes(self.buf[2:4], "big")
                head = 4
            elif length == 127:
                length = int.from_bytes(self.buf[2:10], "big")
                head = 10
            if len(self.buf) < head + length:
                return
            payload, self.buf = self.buf[head : head + length], self.buf[head + length :]
            if payload[:1] != b"{":
                continue
            message = msgspec.json.decode(payload)
            if message.get("method") == "notify_status_update":
                temp = message["params"][0].get("extruder", {}).get("temperature")
                if temp is not None:
                    self.arrivals.append((temp, now))
            elif "id" in message:
                self.replies.put_nowait(message)

    def send(self, obj: object) -> None:
        payload = msgspec.json.encode(obj)
        mask = os.urandom(4)
        n = len(payload)
        head = bytes([0x81, 0x80 | n]) if n < 126 else bytes([0x81, 0xFE]) + n.to_bytes(2, "big")
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        assert self.transport is not None
        self.transport.write(head + mask + masked)

    async def call(self, method: str, params: object, req_id: int) -> dict[str, object]:
        self.send({"jsonrpc": "2.0", "method": method, "params": params, "id": req_id})
        return await self.replies.get()


async def connect(port: int, arrivals: list[tuple[float, float]]) -> Client:
    loop = asyncio.get_running_loop()
    _, client = await loop.create_connection(lambda: Client(arrivals), "127.0.0.1", port)
    key = base64.b64encode(os.urandom(16)).decode()
    assert client.transport is not None
    client.transport.write(
        (f"GET /websocket HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
         f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
         "Sec-WebSocket-Version: 13\r\n\r\n").encode())
    await client.opened
    return client


async def run(port: int, pid: int, fw: Firmware, clients: int, reports: int,
              interval: float) -> None:
    per_client: list[list[tuple[float, float]]] = [[] for _ in range(clients)]
    conns = [await connect(port, arrivals) for arrivals in per_client]
    listed = await conns[0].call("printer.objects.list", {}, 1)
    objects = {name: None for name in listed["result"]["objects"]}  # type: ignore[index]
    for i, conn in enumerate(conns):
        await conn.call("printer.objects.subscribe", {"objects": objects}, 2 + i)
    sent: dict[float, float] = {}
    cpu0 = cpu_seconds(pid)
    for i in range(reports):
        value = round(30.0 + i * 0.01, 2)
        sent[value] = fw.write(f"T:{value:.2f} /0.00 B:22.00 /0.00 @:0 B@:0\n")
        await asyncio.sleep(interval)
    await asyncio.sleep(0.5)
    cpu = cpu_seconds(pid) - cpu0
    latencies: list[float] = []
    spreads: list[float] = []
    missing = 0
    for value, t0 in sent.items():
        times = [t for arrivals in per_client for v, t in arrivals if v == value]
        missing += clients - len(times)
        if times:
            latencies += [t - t0 for t in times]
            spreads.append(max(times) - min(times))
    ms = 1000.0
    print(f"{clients} clients, {reports} temperature reports every {interval * ms:.0f} ms")
    p50, p95, p99 = (percentile(latencies, p) * ms for p in (50, 95, 99))
    print(f"latency firmware write → client: p50 {p50:.1f} ms, p95 {p95:.1f} ms, "
          f"p99 {p99:.1f} ms")
    print(f"spread first → last client: p50 {percentile(spreads, 50) * ms:.2f} ms, "
          f"p95 {percentile(spreads, 95) * ms:.2f} ms, max {max(spreads) * ms:.2f} ms")
    # a report the server read together with the next one (after a stall) is sent as
    # the newer value only: status pushes carry the latest state, not every reading
    print(f"reports superseded before delivery (client x report): {missing}; "
          f"server CPU during reports: {cpu:.2f} s")
    for conn in conns:
        assert conn.transport is not None
        conn.transport.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=40)
    parser.add_argument("--reports", type=int, default=200)
    parser.add_argument("--interval", type=float, default=0.1)
    args = parser.parse_args()
    fw = Firmware()
    fw.start()
    config = f"[serial]\nport: {fw.path}\nbaud: 250000\n"
    with SkysailProcess(config) as sk:
        if not fw.ready.wait(30):
            raise SystemExit("Skysail did not finish the handshake")
        time.sleep(0.5)
        asyncio.run(run(sk.port, sk.pid, fw, args.clients, args.reports, args.interval))


if __name__ == "__main__":
    main()
