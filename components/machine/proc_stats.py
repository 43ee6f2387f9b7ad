"""Once-a-second host/process statistics for ``machine.proc_stats``.

:class:`ProcStatsSampler` reads a handful of procfs/sysfs files per tick (no
subprocesses, no psutil) and keeps just enough state to turn the kernel's
monotonically increasing counters into rates:

* this process's CPU share, from ``utime + stime`` in ``<proc>/self/stat``;
* per-CPU and total system load, from the ``cpu*`` lines of ``<proc>/stat``;
* per-interface bandwidth, from the byte counters in ``<proc>/net/dev``.

The result shapes mirror Moonraker 0.11 (``machine.proc_stats`` and the single
parameter of ``notify_proc_stat_update``).  Files are opened once and re-read
with ``pread`` at offset 0, which makes procfs/sysfs regenerate their contents
without a fresh ``open``/``close`` pair per tick.

Every reader degrades instead of raising: a missing thermal zone gives
``cpu_temp: None``, a missing ``net/dev`` gives ``network: {}``, and so on.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections import deque
from collections.abc import Callable
from typing import TypedDict

from components.machine.kernel import (
    KernelFile,
    clk_tck,
    find_cpu_thermal_zone,
    find_throttled_file,
    parse_cpu_times,
    parse_net_dev,
    parse_self_cpu_ticks,
    parse_statm_rss_pages,
)
from components.machine.memory import SystemMemory, parse_meminfo

__all__ = [
    "HISTORY_SIZE",
    "THROTTLE_FLAG_NAMES",
    "MoonrakerStat",
    "NetIfaceStats",
    "ProcStatNotify",
    "ProcStatsResult",
    "ProcStatsSampler",
    "SystemMemory",
    "ThrottledState",
    "decode_throttled",
]

HISTORY_SIZE = 30

# Bit meanings of the VideoCore "get_throttled" word.  The strings are the
# ones Moonraker reports and that the web frontends match on.
THROTTLE_FLAG_NAMES: tuple[tuple[int, str], ...] = (
    (0, "Under-Voltage Detected"),
    (1, "Frequency Capped"),
    (2, "Currently Throttled"),
    (3, "Temperature Limit Active"),
    (16, "Previously Under-Volted"),
    (17, "Previously Frequency Capped"),
    (18, "Previously Throttled"),
    (19, "Previously Temperature Limited"),
)

# thermal_zone "type" values that describe the main CPU/SoC die, best first.


class MoonrakerStat(TypedDict):
    time: float
    cpu_usage: float
    memory: int | None
    mem_units: str


class NetIfaceStats(TypedDict):
    rx_bytes: int
    tx_bytes: int
    rx_packets: int
    tx_packets: int
    rx_errs: int
    tx_errs: int
    rx_drop: int
    tx_drop: int
    bandwidth: float


class ThrottledState(TypedDict):
    bits: int
    flags: list[str]


class ProcStatsResult(TypedDict):
    moonraker_stats: list[MoonrakerStat]
    throttled_state: ThrottledState | None
    cpu_temp: float | None
    network: dict[str, NetIfaceStats]
    system_cpu_usage: dict[str, float]
    system_uptime: float
    system_memory: SystemMemory
    websocket_connections: int


class ProcStatNotify(TypedDict):
    moonraker_stats: MoonrakerStat | None
    cpu_temp: float | None
    network: dict[str, NetIfaceStats]
    system_cpu_usage: dict[str, float]
    system_memory: SystemMemory
    websocket_connections: int


def decode_throttled(bits: int) -> ThrottledState:
    """Turn a raw ``get_throttled`` word into ``{"bits", "flags"}``."""
    return {
        "bits": bits,
        "flags": [name for bit, name in THROTTLE_FLAG_NAMES if bits & (1 << bit)],
    }


class ProcStatsSampler:
    """Collects the data behind ``machine.proc_stats`` / ``notify_proc_stat_update``.

    Call :meth:`sample` once a second; :meth:`notify_payload` and
    :meth:`proc_stats` then assemble the wire shapes from the cached results
    without further I/O (apart from ``system_uptime`` and the throttle word,
    which :meth:`proc_stats` reads fresh).

    Rates are computed against the previous sample, or against the state read
    at construction time for the very first sample.  Elapsed time comes from
    ``monotonic`` (not from ``now``), so a wall-clock step - common on a Pi
    without an RTC when NTP syncs - cannot produce absurd percentages.

    ``cpu_clock``, if given, returns this process's consumed CPU seconds
    (``time.process_time`` is the natural choice: nanosecond resolution instead
    of the 10 ms ticks of ``/proc/self/stat``).  By default the ticks in
    ``<proc_root>/self/stat`` are used.
    """

    def __init__(
        self,
        *,
        proc_root: str = "/proc",
        sys_root: str = "/sys",
        history: int = HISTORY_SIZE,
        monotonic: Callable[[], float] = time.monotonic,
        cpu_clock: Callable[[], float] | None = None,
    ) -> None:
        self.proc_root = proc_root
        self.sys_root = sys_root
        self._monotonic = monotonic
        self._cpu_clock = cpu_clock
        self._tick = float(clk_tck())
        self._page_kb = max(os.sysconf("SC_PAGE_SIZE") // 1024, 1)

        self._self_stat = KernelFile(os.path.join(proc_root, "self/stat"))
        self._self_statm = KernelFile(os.path.join(proc_root, "self/statm"))
        self._stat = KernelFile(os.path.join(proc_root, "stat"), until=b"\nintr")
        self._meminfo = KernelFile(os.path.join(proc_root, "meminfo"))
        self._net_dev = KernelFile(os.path.join(proc_root, "net/dev"))
        self._uptime = KernelFile(os.path.join(proc_root, "uptime"))
        temp_path = find_cpu_thermal_zone(sys_root)
        self._temp = KernelFile(temp_path) if temp_path else None
        throttle_path = find_throttled_file(sys_root)
        self._throttled = KernelFile(throttle_path) if throttle_path else None

        self._history: deque[MoonrakerStat] = deque(maxlen=history)
        self._cpu_temp: float | None = None
        self._network: dict[str, NetIfaceStats] = {}
        self._system_cpu: dict[str, float] = {}
        self._system_memory: SystemMemory = {}
        self._last_throttled_bits = 0

        # Baselines for the first sample's rates.
        self._last_mono = monotonic()
        self._last_proc_cpu = self._read_proc_cpu_seconds()
        self._last_cpu_times = self._read_cpu_times()
        self._last_net_raw = self._read_net_raw()

    # -- public API --------------------------------------------------------

    @property
    def system_memory(self) -> SystemMemory:
        """/proc/meminfo as of the last sample."""
        return self._system_memory

    @property
    def history(self) -> list[MoonrakerStat]:
        """The moonraker_stats ring, oldest first (a copy)."""
        return list(self._history)

    def sample(self, now: float) -> MoonrakerStat:
        """Read all per-tick sources once; ``now`` (wall clock) stamps the entry."""
        mono = self._monotonic()
        elapsed = mono - self._last_mono

        proc_cpu = self._read_proc_cpu_seconds()
        cpu_usage = 0.0
        if proc_cpu is not None and self._last_proc_cpu is not None and elapsed > 0:
            cpu_usage = round(max(proc_cpu - self._last_proc_cpu, 0.0) / elapsed * 100.0, 2)

        entry: MoonrakerStat = {
            "time": now,
            "cpu_usage": cpu_usage,
            "memory": self._read_rss_kb(),
            "mem_units": "kB",
        }
        self._history.append(entry)

        self._cpu_temp = self._read_cpu_temp()

        cpu_times = self._read_cpu_times()
        self._system_cpu = self._cpu_percentages(self._last_cpu_times, cpu_times)
        self._last_cpu_times = cpu_times

        meminfo = self._meminfo.read()
        self._system_memory = parse_meminfo(meminfo) if meminfo is not None else {}

        net_raw = self._read_net_raw()
        self._network = self._net_stats(self._last_net_raw, net_raw, elapsed)
        self._last_net_raw = net_raw

        self._last_mono = mono
        self._last_proc_cpu = proc_cpu
        return entry

    def notify_payload(self, websocket_connections: int) -> ProcStatNotify:
        """``notify_proc_stat_update`` params[0] for the latest sample."""
        return {
            "moonraker_stats": self._history[-1] if self._history else None,
            "cpu_temp": self._cpu_temp,
            "network": self._network,
            "system_cpu_usage": self._system_cpu,
            "system_memory": self._system_memory,
            "websocket_connections": websocket_connections,
        }

    def proc_stats(self, websocket_connections: int) -> ProcStatsResult:
        """The ``machine.proc_stats`` result."""
        return {
            "moonraker_stats": list(self._history),
            "throttled_state": self.throttled_state(),
            "cpu_temp": self._cpu_temp,
            "network": self._network,
            "system_cpu_usage": self._system_cpu,
            "system_uptime": self.system_uptime(),
            "system_memory": self._system_memory,
            "websocket_connections": websocket_connections,
        }

    def system_uptime(self) -> float:
        """Seconds since boot (``<proc_root>/uptime``; CLOCK_BOOTTIME fallback)."""
        data = self._uptime.read()
        if data is not None:
            try:
                return float(data.split()[0])
            except (ValueError, IndexError):
                pass
        if self.proc_root == "/proc":
            try:
                return time.clock_gettime(time.CLOCK_BOOTTIME)
            except (AttributeError, OSError):
                pass
        return 0.0

    def throttled_state(self) -> ThrottledState | None:
        """``{"bits", "flags"}`` from the Pi firmware, or None off a Pi.

        None (not ``{"bits": 0, "flags": []}``) is what Moonraker reports when
        it has no throttle source; the frontends accept both.  An unreadable or
        garbled source reports ``flags: ["?"]`` like Moonraker does.
        """
        if self._throttled is None:
            return None
        data = self._throttled.read()
        try:
            if data is None:
                raise ValueError("unreadable")
            bits = int(data.strip().split(b"=")[-1], 16)
        except ValueError:
            return {"bits": 0, "flags": ["?"]}
        return decode_throttled(bits)

    def poll_throttled_change(self) -> ThrottledState | None:
        """The throttle state if its bits changed since the last poll, else None.

        Intended for ``notify_cpu_throttled`` (Moonraker polls every 10 s).
        The initial reference is 0, so an already-throttled Pi reports once.
        """
        state = self.throttled_state()
        if state is None or state["flags"] == ["?"]:
            return None
        if state["bits"] == self._last_throttled_bits:
            return None
        self._last_throttled_bits = state["bits"]
        return state

    def close(self) -> None:
        """Release the cached file descriptors (they reopen on next use)."""
        for f in (
            self._self_stat,
            self._self_statm,
            self._stat,
            self._meminfo,
            self._net_dev,
            self._uptime,
            self._temp,
            self._throttled,
        ):
            if f is not None:
                f.close()

    def __enter__(self) -> ProcStatsSampler:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        # Best effort: avoid leaking fds when a sampler is simply dropped.
        with contextlib.suppress(Exception):
            self.close()

    # -- readers -----------------------------------------------------------

    def _read_proc_cpu_seconds(self) -> float | None:
        if self._cpu_clock is not None:
            return self._cpu_clock()
        data = self._self_stat.read()
        if data is None:
            return None
        ticks = parse_self_cpu_ticks(data)
        return None if ticks is None else ticks / self._tick

    def _read_rss_kb(self) -> int | None:
        # statm's "resident" is the same counter as VmRSS in /proc/self/status
        # (get_mm_rss), but far cheaper for the kernel to produce.
        data = self._self_statm.read()
        if data is None:
            return None
        pages = parse_statm_rss_pages(data)
        return None if pages is None else pages * self._page_kb

    def _read_cpu_temp(self) -> float | None:
        if self._temp is None:
            return None
        data = self._temp.read()
        if data is None:
            return None
        try:
            return int(data.strip()) / 1000.0
        except ValueError:
            return None

    def _read_cpu_times(self) -> dict[str, tuple[int, int]]:
        data = self._stat.read()
        return parse_cpu_times(data) if data is not None else {}

    def _read_net_raw(self) -> dict[str, list[int]]:
        data = self._net_dev.read()
        return parse_net_dev(data) if data is not None else {}

    # -- rate computation ---------------------------------------------------

    @staticmethod
    def _cpu_percentages(
        before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]]
    ) -> dict[str, float]:
        usage: dict[str, float] = {}
        for name, (total, idle) in after.items():
            prev = before.get(name)
            if prev is None:
                continue  # CPU came online since the last sample
            d_total = total - prev[0]
            d_busy = d_total - (idle - prev[1])
            if d_total <= 0:
                usage[name] = 0.0
            else:
                usage[name] = round(min(max(d_busy / d_total, 0.0), 1.0) * 100.0, 2)
        return usage

    @staticmethod
    def _net_stats(
        before: dict[str, list[int]], after: dict[str, list[int]], elapsed: float
    ) -> dict[str, NetIfaceStats]:
        out: dict[str, NetIfaceStats] = {}
        for name, c in after.items():
            bandwidth = 0.0
            prev = before.get(name)
            if prev is not None and elapsed > 0:
                delta = (c[0] + c[4]) - (prev[0] + prev[4])
                if delta > 0:  # negative: counters reset (interface re-created)
                    bandwidth = round(delta / elapsed, 2)
            out[name] = {
                "rx_bytes": c[0],
                "tx_bytes": c[4],
                "rx_packets": c[1],
                "tx_packets": c[5],
                "rx_errs": c[2],
                "tx_errs": c[6],
                "rx_drop": c[3],
                "tx_drop": c[7],
                "bandwidth": bandwidth,
            }
        return out
