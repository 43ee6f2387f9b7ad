"""The fleet demonstration (docs/fleet.md): one Mosquitto, three Skysail instances on this
host, each with its virtual printer, and a subscriber that sees all three by MQTT alone.

    .venv/bin/python -m bench.fleet --seconds 60

1. starts Mosquitto on a free loopback port and three `python -m gateway` processes
   (instance_name printer1..3, status_objects webhooks/print_stats/extruder/heater_bed,
   no status_interval: every change is published), virtual printers in real time with
   temperature auto-reports once a second;
2. heats every printer by MQTT (printer.gcode.script over {instance}/moonraker/api/request)
   so that both temperatures change on every report;
3. for `--seconds`, measures each status message's latency: the subscriber's monotonic
   clock at arrival minus the message's `eventtime` (the server's monotonic clock when the
   printer's subscription push was built; one host, one clock). The push is built at most
   BATCH_DELAY (15 ms) after the serial line that changed the temperature, so the
   change-to-subscriber latency is at most the figure plus 15 ms; both are reported;
4. starts a print on printer2 by MQTT alone and times the answer and the first status
   message that says "printing";
5. prints a Markdown report (load average and each server's CPU per second included).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import aiomqtt

from bench.common import SkysailProcess, cpu_seconds, percentile
from tests.broker import Mosquitto

BATCH_DELAY_MS = 15.0  # components/printer/subscriptions.py
INSTANCES = ("printer1", "printer2", "printer3")


def config(port: int, instance: str) -> str:
    return f"""
[serial]
port: virtual

[mqtt]
address: 127.0.0.1
port: {port}
instance_name: {instance}
status_objects:
  webhooks
  print_stats=state,filename
  extruder=temperature,target
  heater_bed=temperature,target
"""


def http_json(url: str, body: bytes | None = None) -> Any:
    request = urllib.request.Request(url, data=body, method="POST" if body else "GET")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def upload(base: str, name: str, text: str) -> None:
    boundary = "skysailfleet"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            f"{text}\r\n--{boundary}--\r\n").encode()
    request = urllib.request.Request(
        base + "/server/files/upload", data=body, method="POST",
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(request, timeout=30):
        pass


def cube() -> str:
    lines = ["M140 S60", "M104 S200", "G28", "G90"]
    for layer in range(5):
        lines.append(f"G1 Z{0.2 * (layer + 1):.1f} F600")
        lines += [f"G1 X{20 + (i % 2) * 20} Y{20 + (i // 2 % 2) * 20} F3000" for i in range(40)]
    return "\n".join(lines) + "\n"


class Fleet:
    def __init__(self, client: aiomqtt.Client) -> None:
        self.client = client
        self.latencies: dict[str, list[float]] = {name: [] for name in INSTANCES}
        self.measuring = False
        self.printing_at: float | None = None
        self.printing = asyncio.Event()
        self.answers: dict[int, asyncio.Future[tuple[float, dict[str, Any]]]] = {}
        self.next_id = 0

    async def read(self) -> None:
        async for message in self.client.messages:
            now = time.monotonic()
            instance, _, kind = str(message.topic).partition("/")
            payload = json.loads(bytes(message.payload))  # type: ignore[arg-type]
            if kind == "klipper/status":
                status = payload["status"]
                if self.measuring and any(
                        "temperature" in status.get(n, {}) for n in ("extruder", "heater_bed")):
                    self.latencies[instance].append((now - payload["eventtime"]) * 1000)
                state = status.get("print_stats", {}).get("state")
                if instance == "printer2" and state == "printing" and self.printing_at is None:
                    self.printing_at = now
                    self.printing.set()
            elif kind == "moonraker/api/response":
                waiter = self.answers.pop(payload.get("id"), None)
                if waiter is not None and not waiter.done():
                    waiter.set_result((now, payload))

    async def call(self, instance: str, method: str, **params: Any) -> tuple[float, Any]:
        """A JSON-RPC call by MQTT: (seconds to the answer, the answer)."""
        self.next_id += 1
        req_id = self.next_id
        waiter = self.answers[req_id] = asyncio.get_running_loop().create_future()
        began = time.monotonic()
        await self.client.publish(f"{instance}/moonraker/api/request", json.dumps(
            {"jsonrpc": "2.0", "method": method, "params": params, "id": req_id}), qos=1)
        async with asyncio.timeout(30):
            at, answer = await waiter
        return at - began, answer


async def run(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="skysail-fleet-"))
    broker = Mosquitto(work)
    broker.start()
    servers: dict[str, SkysailProcess] = {}
    try:
        for name in INSTANCES:
            (work / name).mkdir()
            servers[name] = SkysailProcess(config(broker.port, name), work / name).__enter__()
        for name, sky in servers.items():
            base = f"http://127.0.0.1:{sky.port}"
            deadline = time.monotonic() + 60
            while http_json(base + "/server/info")["result"]["klippy_state"] != "ready":
                if time.monotonic() > deadline:
                    raise SystemExit(f"{name}: the virtual printer never became ready")
                await asyncio.sleep(0.2)
        upload(f"http://127.0.0.1:{servers['printer2'].port}", "cube.gcode", cube())

        async with aiomqtt.Client("127.0.0.1", broker.port) as client:
            fleet = Fleet(client)
            for topic in ("+/klipper/status", "+/moonraker/status", "+/moonraker/api/response"):
                await client.subscribe(topic, qos=1)
            reader = asyncio.ensure_future(fleet.read())
            for name in INSTANCES:
                _, answer = await fleet.call(name, "printer.gcode.script",
                                             script="M104 S230\nM140 S90")
                assert answer.get("result") == "ok", answer
            load_before = os.getloadavg()
            cpu_before = {n: cpu_seconds(s.pid) for n, s in servers.items()}
            began = time.monotonic()
            fleet.measuring = True
            await asyncio.sleep(args.seconds)
            fleet.measuring = False
            elapsed = time.monotonic() - began
            cpu = {n: (cpu_seconds(s.pid) - cpu_before[n]) / elapsed for n, s in servers.items()}
            load_after = os.getloadavg()
            answer_s, answer = await fleet.call("printer2", "printer.print.start",
                                                filename="cube.gcode")
            sent = time.monotonic() - answer_s
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(30):
                    await fleet.printing.wait()
            printing_s = None if fleet.printing_at is None else fleet.printing_at - sent
            for name in INSTANCES:
                await fleet.call(name, "printer.print.cancel" if name == "printer2"
                                 else "printer.gcode.script", script="M104 S0\nM140 S0")
            reader.cancel()
        report(args, fleet, cpu, load_before, load_after, answer, answer_s, printing_s)
    finally:
        for sky in servers.values():
            sky.__exit__(None, None, None)
        broker.stop()


def report(args: argparse.Namespace, fleet: Fleet, cpu: dict[str, float],
           load_before: tuple[float, float, float], load_after: tuple[float, float, float],
           answer: Any, answer_s: float, printing_s: float | None) -> None:
    every = [v for values in fleet.latencies.values() for v in values]
    print(f"## Fleet: 3 instances x 1 Hz temperatures, {args.seconds:.0f} s\n")
    print("| instance | messages | p50 ms | p95 ms | max ms | server CPU |")
    print("|---|---|---|---|---|---|")
    for name, values in fleet.latencies.items():
        if values:
            print(f"| {name} | {len(values)} | {percentile(values, 50):.1f} | "
                  f"{percentile(values, 95):.1f} | {max(values):.1f} | {cpu[name] * 100:.1f} % |")
    if every:
        p95 = percentile(every, 95)
        print(f"| all | {len(every)} | {percentile(every, 50):.1f} | {p95:.1f} | "
              f"{max(every):.1f} | |")
        print(f"\nchange -> subscriber, p95 (adding the {BATCH_DELAY_MS:.0f} ms batching "
              f"window as an upper bound): {p95 + BATCH_DELAY_MS:.1f} ms (target <= 100 ms)")
    print(f"\nprinter.print.start on printer2 by MQTT: answered {answer.get('result')!r} "
          f"in {answer_s * 1000:.1f} ms; first 'printing' status after "
          + ("never" if printing_s is None else f"{printing_s * 1000:.1f} ms"))
    print(f"\nload average before {load_before[0]:.2f}, after {load_after[0]:.2f} "
          f"(1 min), {os.cpu_count()} cores")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
