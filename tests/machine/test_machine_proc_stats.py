"""ProcStatsSampler: wire shapes, delta maths, ring buffer, degradation."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from components.machine.proc_stats import HISTORY_SIZE, ProcStatsSampler
from tests.machine.fakehost import FakeClock, FakeHost, make

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024

# Key sets of the Moonraker 0.11 captures (shared/reference/moonraker-responses.md).
PROC_STATS_KEYS = {
    "moonraker_stats",
    "throttled_state",
    "cpu_temp",
    "network",
    "system_cpu_usage",
    "system_uptime",
    "system_memory",
    "websocket_connections",
}
NOTIFY_KEYS = {
    "moonraker_stats",
    "cpu_temp",
    "network",
    "system_cpu_usage",
    "system_memory",
    "websocket_connections",
}
STAT_ENTRY_KEYS = {"time", "cpu_usage", "memory", "mem_units"}
NET_KEYS = {
    "rx_bytes",
    "tx_bytes",
    "rx_packets",
    "tx_packets",
    "rx_errs",
    "tx_errs",
    "rx_drop",
    "tx_drop",
    "bandwidth",
}
MEM_KEYS = {"total", "available", "used"}


def assert_net_shape(network: object) -> None:
    assert isinstance(network, dict)
    for name, stats in network.items():
        assert isinstance(name, str)
        assert set(stats) == NET_KEYS
        for key in NET_KEYS - {"bandwidth"}:
            assert type(stats[key]) is int
        assert type(stats["bandwidth"]) is float


def assert_entry_shape(entry: object) -> None:
    assert isinstance(entry, dict)
    assert set(entry) == STAT_ENTRY_KEYS
    assert type(entry["time"]) is float
    assert type(entry["cpu_usage"]) is float
    assert type(entry["memory"]) is int
    assert entry["mem_units"] == "kB"


# -- shapes -------------------------------------------------------------------


def test_proc_stats_shape_matches_reference(host: FakeHost) -> None:
    clock = FakeClock()
    sampler = make(host, clock)
    clock.now += 1
    sampler.sample(1795275756.75)
    result = sampler.proc_stats(websocket_connections=1)
    assert list(result) == [
        "moonraker_stats",
        "throttled_state",
        "cpu_temp",
        "network",
        "system_cpu_usage",
        "system_uptime",
        "system_memory",
        "websocket_connections",
    ]
    assert set(result) == PROC_STATS_KEYS
    assert isinstance(result["moonraker_stats"], list)
    for entry in result["moonraker_stats"]:
        assert_entry_shape(entry)
    assert result["throttled_state"] is None
    assert result["cpu_temp"] is None
    assert_net_shape(result["network"])
    assert set(result["system_cpu_usage"]) == {"cpu", "cpu0", "cpu1"}
    assert all(type(v) is float for v in result["system_cpu_usage"].values())
    assert result["system_uptime"] == 5846.20
    assert set(result["system_memory"]) == MEM_KEYS
    assert all(type(v) is int for v in result["system_memory"].values())
    assert result["websocket_connections"] == 1
    json.dumps(result)


def test_notify_payload_shape_matches_reference(host: FakeHost) -> None:
    clock = FakeClock()
    sampler = make(host, clock)
    clock.now += 1
    entry = sampler.sample(1795275786.78)
    payload = sampler.notify_payload(websocket_connections=3)
    assert list(payload) == [
        "moonraker_stats",
        "cpu_temp",
        "network",
        "system_cpu_usage",
        "system_memory",
        "websocket_connections",
    ]
    assert set(payload) == NOTIFY_KEYS
    assert payload["moonraker_stats"] == entry  # a single entry, not the ring
    assert_entry_shape(payload["moonraker_stats"])
    assert_net_shape(payload["network"])
    assert payload["websocket_connections"] == 3
    json.dumps(payload)


def test_before_first_sample(host: FakeHost) -> None:
    sampler = make(host, FakeClock())
    result = sampler.proc_stats(0)
    assert result["moonraker_stats"] == []
    assert result["network"] == {}
    assert result["system_cpu_usage"] == {}
    assert sampler.notify_payload(0)["moonraker_stats"] is None


# -- delta maths ----------------------------------------------------------------


def test_process_cpu_usage_from_tick_deltas(host: FakeHost) -> None:
    clock = FakeClock()
    sampler = make(host, clock)
    # +CLK_TCK/2 ticks over 1 s of wall time -> 50 %
    host.self_stat(100 + CLK_TCK // 4, 50 + CLK_TCK // 4)
    clock.now += 1.0
    assert sampler.sample(10.0)["cpu_usage"] == 50.0
    # +CLK_TCK/10 ticks over 2 s -> 5 %
    host.self_stat(100 + CLK_TCK // 4 + CLK_TCK // 10, 50 + CLK_TCK // 4)
    clock.now += 2.0
    assert sampler.sample(12.0)["cpu_usage"] == 5.0
    # no progress -> 0 %
    clock.now += 1.0
    assert sampler.sample(13.0)["cpu_usage"] == 0.0


def test_memory_is_rss_in_kb(host: FakeHost) -> None:
    clock = FakeClock()
    sampler = make(host, clock)
    entry = sampler.sample(1.0)
    assert entry["memory"] == 2500 * PAGE_KB
    assert entry["mem_units"] == "kB"


def test_injected_cpu_clock(host: FakeHost) -> None:
    clock = FakeClock()
    cpu = FakeClock(3.0)
    sampler = ProcStatsSampler(
        proc_root=str(host.proc), sys_root=str(host.sys), monotonic=clock, cpu_clock=cpu
    )
    cpu.now += 0.0037
    clock.now += 1.0
    assert sampler.sample(1.0)["cpu_usage"] == 0.37


def test_time_field_is_now_but_rates_use_monotonic(host: FakeHost) -> None:
    clock = FakeClock()
    sampler = make(host, clock)
    host.self_stat(100 + CLK_TCK // 2, 50)
    clock.now += 1.0
    # A huge wall-clock jump (NTP sync on an RTC-less Pi) must not matter.
    entry = sampler.sample(1.0e9)
    assert entry["time"] == 1.0e9
    assert entry["cpu_usage"] == 50.0


def test_zero_elapsed_does_not_divide_by_zero(host: FakeHost) -> None:
    clock = FakeClock()
    sampler = make(host, clock)
    host.self_stat(500, 500)
    host.net({"lo": (9999, 10, 9999, 10), "eth0": (5000, 50, 3000, 30)})
    entry = sampler.sample(1.0)  # clock not advanced
    assert entry["cpu_usage"] == 0.0
    assert sampler.notify_payload(0)["network"]["lo"]["bandwidth"] == 0.0


def test_system_cpu_usage_from_stat_deltas(host: FakeHost) -> None:
    clock = FakeClock()
    sampler = make(host, clock)
    # cpu0: +30 busy, +70 idle -> 30 %; cpu1: +90 busy, +10 idle(+iowait) -> 90 %
    host.cpu(
        {
            "cpu": (220, 0, 100, 870, 10),
            "cpu0": (80, 0, 50, 470, 0),
            "cpu1": (140, 0, 50, 400, 10),
        }
    )
    clock.now += 1.0
    sampler.sample(1.0)
    usage = sampler.notify_payload(0)["system_cpu_usage"]
    assert list(usage) == ["cpu", "cpu0", "cpu1"]
    assert usage == {"cpu": 60.0, "cpu0": 30.0, "cpu1": 90.0}
    # Unchanged counters (no jiffies elapsed) -> 0.0, never a ZeroDivisionError.
    clock.now += 1.0
    sampler.sample(2.0)
    assert sampler.notify_payload(0)["system_cpu_usage"]["cpu0"] == 0.0


def test_system_cpu_usage_rounding(host: FakeHost) -> None:
    clock = FakeClock()
    sampler = make(host, clock)
    host.cpu(
        {"cpu": (101, 0, 100, 802, 0), "cpu0": (50, 0, 50, 400, 0), "cpu1": (50, 0, 50, 400, 0)}
    )
    sampler.sample(1.0)
    assert sampler.notify_payload(0)["system_cpu_usage"]["cpu"] == 33.33


def test_cpu_hotplug_is_skipped_until_it_has_a_baseline(host: FakeHost) -> None:
    clock = FakeClock()
    sampler = make(host, clock)
    host.cpu(
        {
            "cpu": (110, 0, 100, 890, 0),
            "cpu0": (60, 0, 50, 490, 0),
            "cpu1": (50, 0, 50, 400, 0),
            "cpu2": (1, 0, 1, 1, 0),
        }
    )
    sampler.sample(1.0)
    assert set(sampler.notify_payload(0)["system_cpu_usage"]) == {"cpu", "cpu0", "cpu1"}


def test_bandwidth_from_byte_deltas(host: FakeHost) -> None:
    clock = FakeClock()
    sampler = make(host, clock)
    host.net({"lo": (1000, 10, 1000, 10), "eth0": (7000, 60, 4001, 40), "wlan0": (10, 1, 10, 1)})
    clock.now += 2.0
    sampler.sample(1.0)
    net = sampler.notify_payload(0)["network"]
    assert net["lo"]["bandwidth"] == 0.0
    assert net["eth0"]["bandwidth"] == 1500.5  # (2000 + 1001) / 2 s
    assert net["wlan0"]["bandwidth"] == 0.0  # new interface: no baseline yet
    assert net["eth0"]["rx_bytes"] == 7000
    assert net["eth0"]["tx_bytes"] == 4001
    assert net["eth0"]["rx_packets"] == 60
    assert net["eth0"]["tx_packets"] == 40
    assert (net["eth0"]["rx_errs"], net["eth0"]["rx_drop"]) == (1, 2)
    assert (net["eth0"]["tx_errs"], net["eth0"]["tx_drop"]) == (3, 4)
    # Next tick measures against the previous sample, not the first one.
    host.net({"lo": (1000, 10, 1000, 10), "eth0": (7300, 61, 4001, 40), "wlan0": (10, 1, 10, 1)})
    clock.now += 1.0
    sampler.sample(2.0)
    assert sampler.notify_payload(0)["network"]["eth0"]["bandwidth"] == 300.0


def test_bandwidth_counter_reset_is_not_negative(host: FakeHost) -> None:
    clock = FakeClock()
    sampler = make(host, clock)
    host.net({"lo": (1000, 10, 1000, 10), "eth0": (10, 1, 10, 1)})
    clock.now += 1.0
    sampler.sample(1.0)
    assert sampler.notify_payload(0)["network"]["eth0"]["bandwidth"] == 0.0


def test_system_memory(host: FakeHost) -> None:
    sampler = make(host, FakeClock())
    sampler.sample(1.0)
    assert sampler.notify_payload(0)["system_memory"] == {
        "total": 1000000,
        "available": 600000,
        "used": 400000,
    }


def test_system_memory_without_memavailable(host: FakeHost) -> None:
    host.meminfo(1000000, 200000, None)
    sampler = make(host, FakeClock())
    sampler.sample(1.0)
    # MemFree + Buffers + Cached
    assert sampler.notify_payload(0)["system_memory"]["available"] == 200300


# -- ring buffer ------------------------------------------------------------------


def test_ring_keeps_last_30_entries(host: FakeHost) -> None:
    clock = FakeClock()
    sampler = make(host, clock)
    for i in range(45):
        clock.now += 1.0
        sampler.sample(float(i))
    ring = sampler.proc_stats(0)["moonraker_stats"]
    assert HISTORY_SIZE == 30
    assert len(ring) == 30
    assert [e["time"] for e in ring] == [float(i) for i in range(15, 45)]
    assert sampler.history == ring
    # The result is a snapshot, not a live view of the ring.
    clock.now += 1.0
    sampler.sample(99.0)
    assert ring[-1]["time"] == 44.0


# -- thermal / throttle -----------------------------------------------------------


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="needs Linux procfs")
def test_real_proc() -> None:
    with ProcStatsSampler() as sampler:
        deadline = time.process_time() + 0.05
        while time.process_time() < deadline:
            pass  # burn some CPU so there is something to measure
        first = sampler.sample(time.time())
        sampler.sample(time.time())
        result = sampler.proc_stats(websocket_connections=1)
    assert_entry_shape(first)
    assert first["memory"] is not None and first["memory"] > 1000
    assert first["cpu_usage"] >= 0.0
    assert set(result) == PROC_STATS_KEYS
    assert len(result["moonraker_stats"]) == 2
    assert "cpu" in result["system_cpu_usage"]
    assert all(0.0 <= v <= 100.0 for v in result["system_cpu_usage"].values())
    assert set(result["system_memory"]) == MEM_KEYS
    assert result["system_memory"]["used"] > 0
    assert result["system_uptime"] > 0
    assert_net_shape(result["network"])
    assert result["cpu_temp"] is None or isinstance(result["cpu_temp"], float)
    json.dumps(result)


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="needs Linux procfs")
def test_real_proc_sample_is_cheap() -> None:
    with ProcStatsSampler() as sampler:
        sampler.sample(time.time())
        n = 200
        start = time.perf_counter()
        for _ in range(n):
            sampler.sample(time.time())
            sampler.notify_payload(1)
        per_sample = (time.perf_counter() - start) / n
    # Typically ~30-60 us; the bound only guards against an accidental
    # subprocess or directory scan creeping onto the hot path.
    assert per_sample < 0.002

def test_empty_roots_degrade_to_null_and_empty(tmp_path: Path) -> None:
    clock = FakeClock()
    sampler = ProcStatsSampler(
        proc_root=str(tmp_path / "noproc"), sys_root=str(tmp_path / "nosys"), monotonic=clock
    )
    clock.now += 1.0
    entry = sampler.sample(5.0)
    assert entry == {"time": 5.0, "cpu_usage": 0.0, "memory": None, "mem_units": "kB"}
    result = sampler.proc_stats(2)
    assert set(result) == PROC_STATS_KEYS
    assert result["cpu_temp"] is None
    assert result["throttled_state"] is None
    assert result["network"] == {}
    assert result["system_cpu_usage"] == {}
    assert result["system_memory"] == {}
    assert result["system_uptime"] == 0.0
    assert result["websocket_connections"] == 2
    json.dumps(result)
    assert set(sampler.notify_payload(2)) == NOTIFY_KEYS
