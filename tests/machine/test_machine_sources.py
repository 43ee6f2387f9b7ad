"""The kernel sources of machine.proc_stats: the CPU thermal zone, the Pi's throttle
word, files that go away or hold garbage, and the text parsers."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.machine.kernel import KernelFile, parse_cpu_times, parse_net_dev
from components.machine.proc_stats import decode_throttled
from tests.machine.fakehost import NET_DEV_HEADER, FakeClock, FakeHost, make


def test_cpu_temp_prefers_cpu_zone(host: FakeHost) -> None:
    host.thermal(0, "acpitz", 27800)
    host.thermal(1, "x86_pkg_temp", 48312)
    sampler = make(host, FakeClock())
    sampler.sample(1.0)
    assert sampler.notify_payload(0)["cpu_temp"] == 48.312
    host.thermal(1, "x86_pkg_temp", 51000)
    sampler.sample(2.0)
    assert sampler.proc_stats(0)["cpu_temp"] == 51.0


@pytest.mark.parametrize("zone_type", ["cpu-thermal", "cpu_thermal", "soc-thermal", "cpu0-thermal"])
def test_cpu_temp_pi_and_sbc_zone_names(host: FakeHost, zone_type: str) -> None:
    host.thermal(0, "gpu-thermal", 10000)
    host.thermal(3, zone_type, 45500)
    sampler = make(host, FakeClock())
    sampler.sample(1.0)
    assert sampler.notify_payload(0)["cpu_temp"] == 45.5


def test_cpu_temp_null_without_matching_zone(host: FakeHost) -> None:
    host.thermal(0, "battery", 30000)
    sampler = make(host, FakeClock())
    sampler.sample(1.0)
    assert sampler.notify_payload(0)["cpu_temp"] is None


def test_cpu_temp_garbage_is_null(host: FakeHost) -> None:
    host.thermal(0, "cpu-thermal", 0)
    host.write("sys/class/thermal/thermal_zone0/temp", "not a number\n")
    sampler = make(host, FakeClock())
    sampler.sample(1.0)
    assert sampler.notify_payload(0)["cpu_temp"] is None


def test_throttled_state_from_pi_firmware(host: FakeHost) -> None:
    host.write("sys/devices/platform/soc/soc:firmware/get_throttled", "50005\n")
    sampler = make(host, FakeClock())
    assert sampler.proc_stats(0)["throttled_state"] == {
        "bits": 0x50005,
        "flags": [
            "Under-Voltage Detected",
            "Currently Throttled",
            "Previously Under-Volted",
            "Previously Throttled",
        ],
    }
    host.write("sys/devices/platform/soc/soc:firmware/get_throttled", "0\n")
    assert sampler.throttled_state() == {"bits": 0, "flags": []}
    host.write("sys/devices/platform/soc/soc:firmware/get_throttled", "bogus\n")
    assert sampler.throttled_state() == {"bits": 0, "flags": ["?"]}


def test_throttled_file_found_under_other_platform_node(host: FakeHost) -> None:
    host.write("sys/devices/platform/axi/axi:firmware/get_throttled", "0x8\n")
    sampler = make(host, FakeClock())
    assert sampler.throttled_state() == {"bits": 8, "flags": ["Temperature Limit Active"]}


def test_poll_throttled_change(host: FakeHost) -> None:
    path = "sys/devices/platform/soc/soc:firmware/get_throttled"
    host.write(path, "0\n")
    sampler = make(host, FakeClock())
    assert sampler.poll_throttled_change() is None
    host.write(path, "4\n")
    assert sampler.poll_throttled_change() == {"bits": 4, "flags": ["Currently Throttled"]}
    assert sampler.poll_throttled_change() is None
    host.write(path, "40000\n")
    changed = sampler.poll_throttled_change()
    assert changed is not None and changed["flags"] == ["Previously Throttled"]


def test_poll_throttled_change_off_pi(host: FakeHost) -> None:
    assert make(host, FakeClock()).poll_throttled_change() is None


def test_decode_throttled_all_bits() -> None:
    state = decode_throttled(0xF000F)
    assert state["bits"] == 0xF000F
    assert len(state["flags"]) == 8


# -- degradation --------------------------------------------------------------------



def test_no_network_file(host: FakeHost) -> None:
    (host.proc / "net" / "dev").unlink()
    sampler = make(host, FakeClock())
    sampler.sample(1.0)
    assert sampler.notify_payload(0)["network"] == {}


def test_garbled_files_do_not_raise(host: FakeHost) -> None:
    host.write("self/stat", "garbage\n")
    host.write("self/statm", "\n")
    host.write("stat", "cpu x y z\nintr 0\n")
    host.write("meminfo", "nonsense\n")
    host.write("net/dev", NET_DEV_HEADER + "eth0: 1 2 3\nnocolon\n")
    host.write("uptime", "\n")
    sampler = make(host, FakeClock())
    entry = sampler.sample(1.0)
    assert entry["memory"] is None
    result = sampler.proc_stats(0)
    assert result["network"] == {}
    assert result["system_cpu_usage"] == {}
    assert result["system_memory"] == {}
    assert result["system_uptime"] == 0.0


# -- parsers ---------------------------------------------------------------------------


def test_net_dev_name_glued_to_counter_and_dashed_names() -> None:
    text = (
        NET_DEV_HEADER
        + "eth0:4294967296 5 0 0 0 0 0 0 7 8 0 0 0 0 0 0\n"
        + "  br-1a2b: 1 2 3 4 0 0 0 0 5 6 7 8 0 0 0 0\n"
    ).encode()
    parsed = parse_net_dev(text)
    assert parsed["eth0"][0] == 4294967296
    assert parsed["br-1a2b"] == [1, 2, 3, 4, 5, 6, 7, 8]


def test_cpu_times_ignore_guest_columns() -> None:
    # guest/guest_nice (cols 9, 10) are already part of user/nice.
    parsed = parse_cpu_times(b"cpu  10 0 5 80 5 0 0 0 7 7\nintr 1\n")
    assert parsed == {"cpu": (100, 85)}


def test_kernel_file_reads_past_chunk_until_marker(tmp_path: Path) -> None:
    cpu_lines = "".join(f"cpu{i} 1 2 3 4 5 6 7 8 0 0\n" for i in range(2000))
    path = tmp_path / "stat"
    path.write_text("cpu  1 2 3 4 5 6 7 8 0 0\n" + cpu_lines + "intr " + "0 " * 50000 + "\n")
    kf = KernelFile(str(path), until=b"\nintr")
    data = kf.read()
    kf.close()
    assert data is not None
    assert len(parse_cpu_times(data)) == 2001
    assert len(data) < path.stat().st_size  # stopped early, the intr line is skipped


def test_kernel_file_missing_returns_none(tmp_path: Path) -> None:
    assert KernelFile(str(tmp_path / "absent")).read() is None


# -- real /proc -----------------------------------------------------------------------
