"""Streaming benchmark: HostLink -> pty -> virtual Marlin.

Two measurements per baud rate:

* print: a generated short-segment, arc-heavy print (slicer-like: 0.3-1 mm
  segments at 40-150 mm/s plus G2/G3 arcs) at time_scale 1.0. Reports wall
  time / simulated motion time, planner starvations after the first second,
  lines/s and the host's CPU seconds (event-loop thread).
* throughput: the same file with motion made instant (time_scale 1000) and no
  per-command delay, so only the wire limits: achieved bytes/s against the
  serial-link bound (baud / 10 bits per byte).
* meatpack: the throughput run with MeatPack packing: lines/s as a multiple of what
  plain text could reach at best (the serial bound divided by the plain line size).
* fast: an infinitely fast wire (native USB) and a firmware taking --command-delay
  seconds per command (0.2 ms: 5,000 commands/s): lines/s as a share of that rate,
  and the host's CPU time per line.

Run:  .venv/bin/python bench/stream.py [--baud 115200 250000] [--seconds 20]
      [--what print throughput meatpack fast]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gateway.hostlink import HostLink, JobState, LinkState, SerialConfig  # noqa: E402
from gateway.hostlink.protocol import frame  # noqa: E402


def generate(seconds: float, seed: int = 42, segment_scale: float = 1.0) -> list[str]:
    """Commands for roughly ``seconds`` of motion (estimated at full speed).

    ``segment_scale`` < 1 makes every segment shorter: more lines per second of motion,
    a harder test of the sender (0.5 gives 0.15-0.5 mm segments)."""
    rng = random.Random(seed)
    k = segment_scale
    # M302 P1: the simulated hotend stays cold; allow extrusion anyway.
    out = ["M302 P1", "G21", "G90", "M83", "G28", "G1 Z0.2 F600", "G1 X60 Y60 F6000"]
    x, y = 60.0, 60.0
    budget = seconds
    while budget > 0:
        kind = rng.random()
        if kind < 0.35:
            # Curved perimeter as short chords: 0.3-0.6 mm at 40-60 mm/s.
            speed = rng.uniform(40, 60)
            seg = rng.uniform(0.3, 0.6) * k
            radius = rng.uniform(3, 15)
            cx, cy = x - radius, y
            a0 = 0.0
            steps = int(rng.uniform(0.5, 1.0) * 2 * math.pi * radius / seg)
            out.append(f"G1 F{speed * 60:.0f}")
            for i in range(1, steps + 1):
                a = a0 + i * seg / radius
                x, y = cx + radius * math.cos(a), cy + radius * math.sin(a)
                out.append(f"G1 X{x:.3f} Y{y:.3f} E{seg * 0.0333:.5f}")
            budget -= steps * seg / speed
        elif kind < 0.6:
            # Infill-like zigzag: 0.6-1 mm segments at 100-150 mm/s.
            speed = rng.uniform(100, 150)
            seg = rng.uniform(0.6, 1.0) * k
            out.append(f"G1 F{speed * 60:.0f}")
            heading = rng.uniform(0, 2 * math.pi)
            for _ in range(rng.randint(20, 60)):
                heading += rng.uniform(-0.3, 0.3)
                x = min(200.0, max(20.0, x + seg * math.cos(heading)))
                y = min(200.0, max(20.0, y + seg * math.sin(heading)))
                out.append(f"G1 X{x:.3f} Y{y:.3f} E{seg * 0.0333:.5f}")
                budget -= seg / speed
        else:
            # A run of arcs as ArcWelder writes them: G2/G3, radius 2-20 mm,
            # 0.5-2 mm long each, at 60-120 mm/s.
            speed = rng.uniform(60, 120)
            out.append(f"G1 F{speed * 60:.0f}")
            heading = rng.uniform(0, 2 * math.pi)
            for _ in range(rng.randint(10, 40)):
                radius = rng.uniform(2, 20)
                sweep = rng.uniform(0.5, 2.0) * k / radius
                cw = rng.random() < 0.5
                side = -1.0 if cw else 1.0
                # Centre to the left (ccw) or right (cw) of the heading.
                cx = x + radius * math.cos(heading + side * math.pi / 2)
                cy = y + radius * math.sin(heading + side * math.pi / 2)
                start_angle = math.atan2(y - cy, x - cx)
                end_angle = start_angle - sweep if cw else start_angle + sweep
                i_off, j_off = cx - x, cy - y
                x, y = cx + radius * math.cos(end_angle), cy + radius * math.sin(end_angle)
                heading += side * sweep
                length = radius * sweep
                out.append(
                    f"{'G2' if cw else 'G3'} X{x:.3f} Y{y:.3f} I{i_off:.3f} J{j_off:.3f} "
                    f"E{length * 0.0333:.5f}"
                )
                budget -= length / speed
        if not (20 < x < 200 and 20 < y < 200):
            x, y = rng.uniform(60, 160), rng.uniform(60, 160)
            out.append(f"G0 X{x:.3f} Y{y:.3f} F9000")
    out.append("M400")
    return out


def as_file(commands: list[str]) -> list[tuple[str, int]]:
    lines = []
    offset = 0
    for cmd in commands:
        raw = cmd + "\n"
        offset += len(raw)
        lines.append((raw, offset))
    return lines


def wire_bytes(commands: list[str], first_n: int) -> int:
    return sum(len(frame(first_n + i, c)) for i, c in enumerate(commands))


@dataclass
class Result:
    baud: int
    mode: str
    lines: int
    wall: float
    motion: float
    starvations_after_1s: int
    starvation_time_after_1s: float
    lines_per_s: float
    cpu: float
    bytes_per_s: float
    link_bound: float

    def print_row(self) -> str:
        return (
            f"| {self.baud} | {self.mode} | {self.lines} | {self.wall:.2f} | {self.motion:.2f} | "
            f"{self.wall / self.motion:.3f} | {self.starvations_after_1s} "
            f"({self.starvation_time_after_1s:.3f} s) | {self.lines_per_s:.0f} | {self.cpu:.2f} |"
        )

    def throughput_row(self) -> str:
        return (
            f"| {self.baud} | {self.mode} | {self.lines} | {self.wall:.2f} | "
            f"{self.lines_per_s:.0f} | {self.cpu:.2f} | "
            f"{100 * self.bytes_per_s / self.link_bound:.1f} % |"
        )


async def run(baud: int, commands: list[str], *, mode: str, time_scale: float) -> Result:
    """Stream through an in-process virtual printer (its stats can be read
    mid-run, for the starvation count after the first second)."""
    cfg = SerialConfig(
        port="virtual",
        baud=baud,
        advanced_ok=mode,
        virtual_advanced_ok=mode != "off",
        virtual_time_scale=time_scale,
        virtual_command_delay=0.0,
        temperature_report_interval=1.0,
    )
    link = HostLink(cfg)
    await link.start()
    if link.state is not LinkState.READY:
        raise SystemExit(f"link not ready: {link.state_message}")
    vp = link.virtual_printer
    assert vp is not None
    first_n = link.next_line_number
    vp.reset_stats()
    cpu0 = time.thread_time()
    t0 = time.monotonic()
    job = link.stream(as_file(commands))
    await asyncio.sleep(1.0)
    after_1s = vp.stats
    state = await job.done()
    assert state is JobState.COMPLETE
    t_acked = time.monotonic() - t0
    await asyncio.to_thread(vp.wait_idle, 120)
    wall = time.monotonic() - t0
    cpu = time.thread_time() - cpu0
    stats = vp.stats
    await link.stop()
    return Result(
        baud=baud,
        mode=mode,
        lines=len(commands),
        wall=wall,
        motion=stats.motion_time / time_scale,
        starvations_after_1s=stats.planner_starvations - after_1s.planner_starvations,
        starvation_time_after_1s=stats.starvation_time - after_1s.starvation_time,
        lines_per_s=len(commands) / t_acked,
        cpu=cpu,
        bytes_per_s=wire_bytes(commands, first_n) / t_acked,
        link_bound=baud / 10,
    )


async def run_throughput(
    baud: int, commands: list[str], *, mode: str, meatpack: bool = False,
    lean: bool = False, command_delay: float = 0.0, rx_buffer_size: int = 128,
    max_in_flight: int = 16,
) -> Result:
    """Stream with motion made instant and no command delay, the virtual
    printer in its own process (in-process, it competes with the host for
    the GIL and becomes the bottleneck). ``baud`` 0: no wire limit at all."""
    argv = [sys.executable, "-m", "gateway.hostlink.virtual", "--baud", str(baud)]
    argv += ["--time-scale", "1000", "--command-delay", str(command_delay)]
    argv += ["--rx-buffer-size", str(rx_buffer_size)]
    if mode == "off":
        argv.append("--no-advanced-ok")
    if meatpack:
        argv.append("--meatpack")
    if lean:
        argv.append("--lean")
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=ROOT
    )
    assert proc.stdout is not None
    port = (await proc.stdout.readline()).decode().strip()
    link = HostLink(
        SerialConfig(port=port, baud=baud or 250000, advanced_ok=mode,
                     temperature_report_interval=0, rx_buffer_size=rx_buffer_size,
                     max_in_flight=max_in_flight,
                     meatpack="auto" if meatpack else "off")
    )
    try:
        await link.start()
        if link.state is not LinkState.READY:
            raise SystemExit(f"link not ready: {link.state_message}")
        if meatpack and not link.meatpack:
            raise SystemExit("MeatPack did not come on")
        written = link.stats().bytes_write
        cpu0 = time.thread_time()
        t0 = time.monotonic()
        job = link.stream(as_file(commands))
        assert await job.done() is JobState.COMPLETE
        elapsed = time.monotonic() - t0
        cpu = time.thread_time() - cpu0
        sent = link.stats().bytes_write - written
    finally:
        await link.stop()
        proc.send_signal(signal.SIGINT)
        await proc.communicate()
    return Result(
        baud=baud,
        mode=mode,
        lines=len(commands),
        wall=elapsed,
        motion=0.0,
        starvations_after_1s=0,
        starvation_time_after_1s=0.0,
        lines_per_s=len(commands) / elapsed,
        cpu=cpu,
        bytes_per_s=sent / elapsed,
        link_bound=baud / 10,
    )


def plain_bound(baud: int, commands: list[str]) -> float:
    """Lines/s plain text could reach at best: every byte of every framed line back
    to back on the wire."""
    return baud / 10 / (wire_bytes(commands, 1000) / len(commands))


PRINT_HEADER = (
    "| baud | advanced_ok | lines | wall s | motion s | wall/motion | "
    "starvations after 1 s | lines/s | host CPU s |\n"
    "|---|---|---|---|---|---|---|---|---|"
)
THROUGHPUT_HEADER = (
    "| baud | advanced_ok | lines | s | lines/s | host CPU s | of link bound |\n"
    "|---|---|---|---|---|---|---|"
)


MEATPACK_HEADER = (
    "| baud | lines | s | lines/s | plain-text bound lines/s | of plain bound | "
    "packed bytes/line | host CPU s |\n|---|---|---|---|---|---|---|---|"
)
FAST_HEADER = (
    "| rx_buffer_size | lines | s | lines/s | of the firmware's rate | "
    "host CPU per line |\n|---|---|---|---|---|---|"
)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baud", type=int, nargs="+", default=[115200, 250000])
    parser.add_argument("--seconds", type=float, default=20.0, help="motion to generate")
    parser.add_argument("--modes", nargs="+", default=["auto", "off"])
    parser.add_argument("--segment-scale", type=float, default=1.0,
                        help="shorter segments (< 1): more lines per second of motion")
    parser.add_argument("--what", nargs="+", default=["print", "throughput"],
                        choices=["print", "throughput", "meatpack", "fast"])
    parser.add_argument("--command-delay", type=float, default=0.0002,
                        help="fast: the firmware's time per command")
    parser.add_argument("--rx-buffer-size", type=int, nargs="+", default=[128, 1024],
                        help="fast: the firmware's receive buffer (both sides)")
    parser.add_argument("--max-in-flight", type=int, default=16,
                        help="fast: the host's cap on lines in flight")
    args = parser.parse_args()
    commands = generate(args.seconds, segment_scale=args.segment_scale)
    arcs = sum(1 for c in commands if c[:3] in ("G2 ", "G3 "))
    size = sum(len(c) + 1 for c in commands)
    print(f"{len(commands)} lines ({arcs} arcs), {size} bytes of G-code\n")
    if "print" in args.what:
        print("print (time_scale 1.0, in-process virtual printer):\n")
        print(PRINT_HEADER)
        for baud in args.baud:
            for mode in args.modes:
                result = await run(baud, commands, mode=mode, time_scale=1.0)
                print(result.print_row(), flush=True)
    if "throughput" in args.what:
        print("\nthroughput (motion instant, no command delay, printer in its own process):\n")
        print(THROUGHPUT_HEADER)
        for baud in args.baud:
            for mode in args.modes:
                result = await run_throughput(baud, commands, mode=mode)
                print(result.throughput_row(), flush=True)
    if "meatpack" in args.what:
        print("\nMeatPack (motion instant, no command delay):\n")
        print(MEATPACK_HEADER)
        for baud in args.baud:
            r = await run_throughput(baud, commands, mode="auto", meatpack=True)
            bound = plain_bound(baud, commands)
            print(f"| {baud} | {r.lines} | {r.wall:.2f} | {r.lines_per_s:.0f} | {bound:.0f} | "
                  f"{r.lines_per_s / bound:.2f} | {r.bytes_per_s / r.lines_per_s:.1f} | "
                  f"{r.cpu:.2f} |", flush=True)
    if "fast" in args.what:
        rate = 1 / args.command_delay
        print(f"\nfast firmware ({args.command_delay * 1000:g} ms per command = {rate:.0f}/s, "
              "infinitely fast wire):\n")
        print(FAST_HEADER)
        for rx in args.rx_buffer_size:
            r = await run_throughput(0, commands, mode="auto", lean=True,
                                     command_delay=args.command_delay, rx_buffer_size=rx,
                                     max_in_flight=args.max_in_flight)
            print(f"| {rx} | {r.lines} | {r.wall:.2f} | {r.lines_per_s:.0f} | "
                  f"{100 * r.lines_per_s / rate:.1f} % | {1e6 * r.cpu / r.lines:.0f} µs |",
                  flush=True)


if __name__ == "__main__":
    asyncio.run(main())
