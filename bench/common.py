"""Shared by the benchmarks: run Skysail as its own process, read its CPU and memory."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


class SkysailProcess:
    def __init__(self, config: str = "", data_dir: Path | None = None,
                 extra_args: list[str] | None = None) -> None:
        self.extra_args = extra_args or []
        self._tmp = None if data_dir else tempfile.mkdtemp(prefix="skysail-bench-")
        self.data_dir = data_dir or Path(self._tmp or "")
        conf = self.data_dir / "config" / "moonraker.conf"
        conf.parent.mkdir(parents=True, exist_ok=True)
        conf.write_text("[server]\nhost: 127.0.0.1\nport: 0\n" + config)
        self.log = self.data_dir / "bench-stderr.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0

    def __enter__(self) -> SkysailProcess:
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "gateway", "-d", str(self.data_dir), "-n",
                 *self.extra_args],
                stderr=log,
                stdout=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            match = re.search(r"listening on [\d.]+:(\d+)", self.log.read_text())
            if match:
                self.port = int(match.group(1))
                return self
            time.sleep(0.05)
        raise RuntimeError("Skysail did not start: " + self.log.read_text())

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(30)
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
