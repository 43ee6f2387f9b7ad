"""Fixtures' helpers for link tests: fast virtual-printer settings, waiting
for conditions, generated print files."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from typing import Any

from gateway.hostlink import SerialConfig

# Fast wire (pacing is real time), fast simulated time, short timeouts.
FAST: dict[str, Any] = {
    "baud": 4_000_000,
    "virtual_time_scale": 100.0,
    "temperature_report_interval": 0.0,
    "response_timeout": 1.0,
    "reconnect_interval": 0.1,
    "connect_timeout": 5.0,
}


def fast_config(**overrides: Any) -> SerialConfig:
    return SerialConfig(**{**FAST, **overrides})


async def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll ``predicate`` until true; fail the test after ``timeout``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(0.01)


def generate_print(lines: int, seed: int = 1) -> tuple[list[tuple[str, int]], list[str]]:
    """A G-code file as (raw line, offset after it) plus the commands the
    firmware must execute: short moves, extrusion, comments, blank lines."""
    rng = random.Random(seed)
    x = y = 100.0
    e = 0.0
    out: list[tuple[str, int]] = []
    expected: list[str] = []
    offset = 0
    for i in range(lines):
        roll = rng.random()
        if roll < 0.04:
            raw = f"; layer comment {i}\n"
            cmd = ""
        elif roll < 0.06:
            raw = "\n"
            cmd = ""
        elif roll < 0.07:
            cmd = "M106 S127"
            raw = cmd + " ; fan\n"
        else:
            x += rng.uniform(-0.3, 0.3)
            y += rng.uniform(-0.3, 0.3)
            e += 0.01
            cmd = f"G1 X{x:.3f} Y{y:.3f} E{e:.4f}"
            if rng.random() < 0.1:
                cmd += " F3000"
            raw = cmd + "\n"
        offset += len(raw.encode())
        out.append((raw, offset))
        if cmd:
            expected.append(cmd)
    return out, expected
