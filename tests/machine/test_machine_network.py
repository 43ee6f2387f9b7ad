"""machine.system_info's network and canbus: interfaces from sysfs, addresses from
rtnetlink or its fallback."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from components.machine.network import (
    IpAddressInfo,
    _fallback_addresses,
    _netlink_addresses,
    collect_canbus,
    collect_network,
)
from tests.machine.fakehost import put


def iface(
    sysfs: Path,
    name: str,
    *,
    kind: int,
    state: str,
    mac: str,
    flags: str = "0x1003",
    txq: int = 1000,
) -> Path:
    base = sysfs / "class/net" / name
    put(base / "type", f"{kind}\n")
    put(base / "operstate", f"{state}\n")
    put(base / "address", f"{mac}\n")
    put(base / "flags", f"{flags}\n")
    put(base / "tx_queue_len", f"{txq}\n")
    return base


def test_network_filters_and_shapes(roots: tuple[Path, Path, Path]) -> None:
    proc, sysfs, _ = roots
    iface(sysfs, "lo", kind=772, state="unknown", mac="00:00:00:00:00:00", flags="0x9")
    iface(sysfs, "eth0", kind=1, state="up", mac="dc:a6:32:01:02:03")
    iface(sysfs, "wlan0", kind=1, state="down", mac="dc:a6:32:01:02:04", flags="0x1002")
    iface(sysfs, "eth1", kind=1, state="up", mac="dc:a6:32:01:02:05")
    iface(sysfs, "can0", kind=280, state="up", mac="", flags="0xc1")
    addresses: dict[str, list[IpAddressInfo]] = {
        "lo": [{"family": "ipv4", "address": "127.0.0.1", "is_link_local": False}],
        "eth0": [
            {"family": "ipv4", "address": "192.168.1.20", "is_link_local": False},
            {"family": "ipv6", "address": "fe80::1", "is_link_local": True},
        ],
        "wlan0": [{"family": "ipv4", "address": "192.168.1.21", "is_link_local": False}],
    }
    network = collect_network(sys_root=str(sysfs), proc_root=str(proc), addresses=addresses)
    assert network == {
        "eth0": {"mac_address": "dc:a6:32:01:02:03", "ip_addresses": addresses["eth0"]}
    }


def test_network_no_interfaces(roots: tuple[Path, Path, Path]) -> None:
    proc, sysfs, _ = roots
    assert collect_network(sys_root=str(sysfs), proc_root=str(proc)) == {}


def test_canbus(roots: tuple[Path, Path, Path], tmp_path: Path) -> None:
    _, sysfs, _ = roots
    can0 = iface(sysfs, "can0", kind=280, state="up", mac="", txq=128)
    driver_dir = tmp_path / "drivers/gs_usb"
    driver_dir.mkdir(parents=True)
    (can0 / "device").mkdir()
    (can0 / "device/driver").symlink_to(driver_dir)
    iface(sysfs, "can1", kind=280, state="unknown", mac="", flags="0x80", txq=10)
    iface(sysfs, "can2", kind=280, state="unknown", mac="", flags="0xc1", txq=10)
    iface(sysfs, "eth0", kind=1, state="up", mac="aa:bb:cc:dd:ee:ff")
    assert collect_canbus(sys_root=str(sysfs)) == {
        "can0": {"tx_queue_len": 128, "bitrate": -1, "driver": "gs_usb"},
        "can2": {"tx_queue_len": 10, "bitrate": -1, "driver": "unknown"},
    }


def test_fallback_addresses_parse_if_inet6(roots: tuple[Path, Path, Path]) -> None:
    proc, _, _ = roots
    put(
        proc / "net/if_inet6",
        "00000000000000000000000000000001 01 80 10 80       lo\n"
        "fd000000000000000000000000000002 04 40 00 82     eth0\n"
        "fe8000000000000000fc00fffe000001 04 40 20 80     eth0\n"
        "garbage line\n",
    )
    found = _fallback_addresses(["nonexistent-if0"], str(proc))
    assert found == {
        "lo": [{"family": "ipv6", "address": "::1", "is_link_local": False}],
        "eth0": [
            {"family": "ipv6", "address": "fd00::2", "is_link_local": False},
            {"family": "ipv6", "address": "fe80::fc:ff:fe00:1", "is_link_local": True},
        ],
    }


def _has_netlink() -> bool:
    try:
        socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0).close()
    except (OSError, AttributeError):
        return False
    return True


@pytest.mark.skipif(not _has_netlink(), reason="rtnetlink unavailable")
def test_real_netlink_sees_loopback() -> None:
    found = _netlink_addresses()
    assert {"family": "ipv4", "address": "127.0.0.1", "is_link_local": False} in found["lo"]


@pytest.mark.skipif(not os.path.exists("/proc/net/if_inet6"), reason="no IPv6 procfs")
def test_real_fallback_agrees_with_netlink_on_ipv4() -> None:
    if not _has_netlink():
        pytest.skip("rtnetlink unavailable")
    via_netlink = _netlink_addresses()
    names = [n for n in os.listdir("/sys/class/net")]
    via_ioctl = _fallback_addresses(names, "/proc")
    for name, addrs in via_ioctl.items():
        v4 = [a for a in addrs if a["family"] == "ipv4"]
        if v4:
            assert v4[0] in via_netlink.get(name, [])
