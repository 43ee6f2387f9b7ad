"""collect_system_info and its parts: reference shape and fake-root parsing."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from components.machine.system_info import (
    VirtualizationInfo,
    collect_cpu_info,
    collect_distribution,
    collect_sd_info,
    collect_system_info,
    collect_virtualization,
    parse_os_release,
)
from tests.machine.fakehost import put

# Key sets of the Moonraker 0.11 capture (shared/reference/moonraker-responses.md).
SYSTEM_INFO_KEYS = {
    "python",
    "cpu_info",
    "sd_info",
    "distribution",
    "virtualization",
    "network",
    "canbus",
    "provider",
    "available_services",
    "service_state",
    "instance_ids",
}
CPU_INFO_TYPES: dict[str, type | tuple[type, ...]] = {
    "cpu_count": int,
    "bits": str,
    "processor": str,
    "cpu_desc": str,
    "serial_number": str,
    "hardware_desc": str,
    "model": str,
    "total_memory": int,
    "memory_units": str,
}
DISTRIBUTION_KEYS = {
    "name",
    "id",
    "version",
    "version_parts",
    "like",
    "codename",
    "release_info",
    "kernel_version",
}
SD_INFO_KEYS = {
    "manufacturer_id",
    "manufacturer",
    "oem_id",
    "product_name",
    "product_revision",
    "serial_number",
    "manufacturer_date",
    "capacity",
    "total_bytes",
}

PI_CPUINFO = """processor\t: 0
BogoMIPS\t: 108.00
Features\t: fp asimd evtstrm crc32 cpuid
CPU implementer\t: 0x41
CPU part\t: 0xd08

processor\t: 1
BogoMIPS\t: 108.00
CPU part\t: 0xd08

Hardware\t: BCM2835
Revision\t: c03114
Serial\t\t: 100000002a3b4c5d
Model\t\t: Raspberry Pi 4 Model B Rev 1.4
"""

X86_CPUINFO = """processor\t: 0
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC 7B13
flags\t\t: fpu vme de pse hypervisor lahf_lm

processor\t: 1
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC 7B13
flags\t\t: fpu vme de pse hypervisor lahf_lm
"""

MEMINFO = "MemTotal:        3884180 kB\nMemFree:  100 kB\nMemAvailable:  2000 kB\n"



def assert_system_info_shape(info: dict[str, object]) -> None:
    assert set(info) == SYSTEM_INFO_KEYS
    py = info["python"]
    assert isinstance(py, dict) and set(py) == {"version", "version_string"}
    assert isinstance(py["version"], list) and len(py["version"]) == 5
    assert isinstance(py["version_string"], str) and "\n" not in py["version_string"]
    cpu = info["cpu_info"]
    assert isinstance(cpu, dict) and set(cpu) == set(CPU_INFO_TYPES)
    for key, typ in CPU_INFO_TYPES.items():
        if key == "total_memory" and cpu[key] is None:
            continue
        assert isinstance(cpu[key], typ), key
    assert isinstance(info["sd_info"], dict)
    if info["sd_info"]:
        assert set(info["sd_info"]) == SD_INFO_KEYS
    dist = info["distribution"]
    assert isinstance(dist, dict) and set(dist) == DISTRIBUTION_KEYS
    assert set(dist["version_parts"]) == {"major", "minor", "build_number"}
    assert isinstance(dist["release_info"], dict)
    for key in DISTRIBUTION_KEYS - {"version_parts", "release_info"}:
        assert isinstance(dist[key], str), key
    virt = info["virtualization"]
    assert isinstance(virt, dict) and set(virt) == {"virt_type", "virt_identifier"}
    assert virt["virt_type"] in {"none", "container", "vm"}
    network = info["network"]
    assert isinstance(network, dict)
    for iface in network.values():
        assert set(iface) == {"mac_address", "ip_addresses"}
        assert isinstance(iface["mac_address"], str)
        for addr in iface["ip_addresses"]:
            assert set(addr) == {"family", "address", "is_link_local"}
            assert addr["family"] in {"ipv4", "ipv6"}
            assert isinstance(addr["is_link_local"], bool)
    assert isinstance(info["canbus"], dict)
    assert isinstance(info["provider"], str)
    assert isinstance(info["available_services"], list)
    assert isinstance(info["service_state"], dict)
    assert isinstance(info["instance_ids"], dict)
    assert set(info["instance_ids"]) == {"moonraker", "klipper"}


# -- whole result ---------------------------------------------------------------


@pytest.mark.skipif(not os.path.exists("/proc/cpuinfo"), reason="needs Linux procfs")
def test_real_system_info_shape() -> None:
    result = collect_system_info()
    assert list(result) == ["system_info"]
    info = result["system_info"]
    assert_system_info_shape(info)
    assert info["provider"] == "none"
    assert info["available_services"] == []
    assert info["service_state"] == {}
    assert info["instance_ids"] == {"moonraker": "skysail", "klipper": "klipper"}
    assert info["python"]["version"] == list(sys.version_info)
    assert info["cpu_info"]["cpu_count"] == os.cpu_count()
    assert info["cpu_info"]["memory_units"] == "kB"
    assert info["distribution"]["kernel_version"] == os.uname().release
    assert info["network"].keys().isdisjoint({"lo"})
    json.dumps(result)


def test_parameters_are_reported(roots: tuple[Path, Path, Path]) -> None:
    proc, sysfs, root = roots
    result = collect_system_info(
        instance_id="skysail-2",
        klipper_instance_id="marlin",
        provider="systemd_cli",
        available_services=("skysail", "crowsnest"),
        service_state={"crowsnest": {"active_state": "active", "sub_state": "running"}},
        proc_root=str(proc),
        sys_root=str(sysfs),
        root=str(root),
        network={},
    )
    info = result["system_info"]
    assert_system_info_shape(info)
    assert info["provider"] == "systemd_cli"
    assert info["available_services"] == ["skysail", "crowsnest"]
    assert info["service_state"]["crowsnest"]["sub_state"] == "running"
    assert info["instance_ids"] == {"moonraker": "skysail-2", "klipper": "marlin"}


def test_empty_roots_degrade(tmp_path: Path) -> None:
    result = collect_system_info(
        proc_root=str(tmp_path / "p"), sys_root=str(tmp_path / "s"), root=str(tmp_path / "r")
    )
    info = result["system_info"]
    assert_system_info_shape(info)
    assert info["cpu_info"]["total_memory"] is None
    assert info["cpu_info"]["memory_units"] == ""
    assert info["sd_info"] == {}
    assert info["network"] == {}
    assert info["canbus"] == {}
    assert info["distribution"]["name"] == ""
    assert info["distribution"]["version_parts"] == {
        "major": "",
        "minor": "",
        "build_number": "",
    }
    assert info["virtualization"] == {"virt_type": "none", "virt_identifier": "none"}
    json.dumps(result)


# -- cpu_info ---------------------------------------------------------------------


def test_cpu_info_raspberry_pi(roots: tuple[Path, Path, Path]) -> None:
    proc, sysfs, _ = roots
    put(proc / "cpuinfo", PI_CPUINFO)
    put(proc / "meminfo", MEMINFO)
    cpu = collect_cpu_info(proc_root=str(proc), sys_root=str(sysfs))
    assert cpu["cpu_desc"] == ""
    assert cpu["hardware_desc"] == "BCM2835"
    assert cpu["serial_number"] == "100000002a3b4c5d"
    assert cpu["model"] == "Raspberry Pi 4 Model B Rev 1.4"
    assert cpu["total_memory"] == 3884180
    assert cpu["memory_units"] == "kB"
    assert cpu["bits"] in {"32bit", "64bit"}
    assert cpu["processor"] == os.uname().machine


def test_cpu_info_x86_and_devicetree_fallback(roots: tuple[Path, Path, Path]) -> None:
    proc, sysfs, _ = roots
    put(proc / "cpuinfo", X86_CPUINFO)
    put(sysfs / "firmware/devicetree/base/model", "Orange Pi 5\x00")
    put(sysfs / "firmware/devicetree/base/serial-number", "00000000c0ffee\x00")
    cpu = collect_cpu_info(proc_root=str(proc), sys_root=str(sysfs))
    assert cpu["cpu_desc"] == "AMD EPYC 7B13"
    assert cpu["hardware_desc"] == ""
    assert cpu["model"] == "Orange Pi 5"
    assert cpu["serial_number"] == "c0ffee"


# -- sd_info ------------------------------------------------------------------------


def _cid(mid: int, oid: str, pnm: str, prv: int, psn: int, year: int, month: int) -> str:
    value = mid << 120
    value |= int.from_bytes(oid.encode(), "big") << 104
    value |= int.from_bytes(pnm.encode(), "big") << 64
    value |= prv << 56
    value |= psn << 24
    value |= (year - 2000) << 12
    value |= month << 8
    value |= 0x01  # CRC7 + stop bit, not checked
    return f"{value:032x}"


def test_sd_info_sdhc(roots: tuple[Path, Path, Path]) -> None:
    _, sysfs, _ = roots
    dev = sysfs / "block/mmcblk0/device"
    put(dev / "cid", _cid(0x03, "SD", "SC32G", 0x80, 0x1234ABCD, 2023, 5) + "\n")
    c_size = 60871
    put(dev / "csd", f"{(1 << 126) | (c_size << 48):032x}\n")
    sd = collect_sd_info(sys_root=str(sysfs))
    assert set(sd) == SD_INFO_KEYS
    assert sd["manufacturer_id"] == "03"
    assert sd["manufacturer"] == "SanDisk"
    assert sd["oem_id"] == "5344"
    assert sd["product_name"] == "SC32G"
    assert sd["product_revision"] == "8.0"
    assert sd["serial_number"] == "1234abcd"
    assert sd["manufacturer_date"] == "5/2023"
    assert sd["total_bytes"] == (c_size + 1) * 512 * 1024
    assert sd["capacity"] == "29.7 GiB"


def test_sd_info_sdsc_and_unknown_maker(roots: tuple[Path, Path, Path]) -> None:
    _, sysfs, _ = roots
    dev = sysfs / "block/mmcblk0/device"
    put(dev / "cid", _cid(0xEE, "XY", "ABCDE", 0x12, 1, 2009, 12))
    # C_SIZE=3000, C_SIZE_MULT=7 (x512), READ_BL_LEN=9 (512 B)
    csd = (3000 << 62) | (7 << 47) | (9 << 80)
    put(dev / "csd", f"{csd:032x}")
    sd = collect_sd_info(sys_root=str(sysfs))
    assert sd["manufacturer"] == "Unknown"
    assert sd["product_revision"] == "1.2"
    assert sd["manufacturer_date"] == "12/2009"
    assert sd["total_bytes"] == 3001 * 512 * 512
    assert sd["capacity"] == "750.2 MiB"


def test_sd_info_bad_csd_keeps_cid(roots: tuple[Path, Path, Path]) -> None:
    _, sysfs, _ = roots
    dev = sysfs / "block/mmcblk0/device"
    put(dev / "cid", _cid(0x1B, "SM", "EB1QT", 0x30, 7, 2020, 1))
    put(dev / "csd", "zz")
    sd = collect_sd_info(sys_root=str(sysfs))
    assert sd["manufacturer"] == "Samsung"
    assert sd["capacity"] == "Unknown"
    assert sd["total_bytes"] == 0


def test_sd_info_absent_or_garbled(roots: tuple[Path, Path, Path]) -> None:
    _, sysfs, _ = roots
    assert collect_sd_info(sys_root=str(sysfs)) == {}
    put(sysfs / "block/mmcblk0/device/cid", "g" * 32)
    assert collect_sd_info(sys_root=str(sysfs)) == {}


# -- distribution ---------------------------------------------------------------------


def test_distribution_debian(roots: tuple[Path, Path, Path]) -> None:
    _, _, root = roots
    put(
        root / "etc/os-release",
        'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\n'
        'VERSION_ID="12"\nVERSION="12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n',
    )
    dist = collect_distribution(root=str(root))
    assert dist == {
        "name": "Debian GNU/Linux 12 (bookworm)",
        "id": "debian",
        "version": "12",
        "version_parts": {"major": "12", "minor": "", "build_number": ""},
        "like": "",
        "codename": "bookworm",
        "release_info": {},
        "kernel_version": os.uname().release,
    }


def test_distribution_ubuntu_from_usr_lib(roots: tuple[Path, Path, Path]) -> None:
    _, _, root = roots
    put(
        root / "usr/lib/os-release",
        'NAME="Ubuntu"\nVERSION_ID="22.04.3"\nVERSION="22.04.3 LTS (Jammy Jellyfish)"\n'
        "ID=ubuntu\nID_LIKE=debian\nUBUNTU_CODENAME=jammy\n",
    )
    dist = collect_distribution(root=str(root))
    assert dist["name"] == "Ubuntu 22.04.3"
    assert dist["version_parts"] == {"major": "22", "minor": "04", "build_number": "3"}
    assert dist["like"] == "debian"
    assert dist["codename"] == "jammy"


def test_distribution_codename_from_version(roots: tuple[Path, Path, Path]) -> None:
    _, _, root = roots
    put(root / "etc/os-release", 'ID=raspbian\nVERSION_ID="10"\nVERSION="10 (buster)"\n')
    assert collect_distribution(root=str(root))["codename"] == "buster"


def test_parse_os_release_quoting() -> None:
    parsed = parse_os_release(
        '# comment\nA=plain\nB=\'single quoted\'\nC="with \\"escape\\" and \\$"\n'
        "not a line\n=novalue\nD=\n"
    )
    assert parsed == {"A": "plain", "B": "single quoted", "C": 'with "escape" and $', "D": ""}


# -- virtualization ------------------------------------------------------------------


def virt(roots: tuple[Path, Path, Path]) -> VirtualizationInfo:
    proc, sysfs, root = roots
    return collect_virtualization(proc_root=str(proc), sys_root=str(sysfs), root=str(root))


def test_virt_none(roots: tuple[Path, Path, Path]) -> None:
    assert virt(roots) == {"virt_type": "none", "virt_identifier": "none"}


def test_virt_dockerenv(roots: tuple[Path, Path, Path]) -> None:
    put(roots[2] / ".dockerenv", "")
    assert virt(roots) == {"virt_type": "container", "virt_identifier": "docker"}


def test_virt_systemd_container_marker(roots: tuple[Path, Path, Path]) -> None:
    put(roots[2] / "run/systemd/container", "podman\n")
    put(roots[2] / ".dockerenv", "")
    assert virt(roots) == {"virt_type": "container", "virt_identifier": "podman"}


def test_virt_cgroup_lxc(roots: tuple[Path, Path, Path]) -> None:
    put(roots[0] / "1/cgroup", "0::/lxc.payload.printer/init.scope\n")
    assert virt(roots) == {"virt_type": "container", "virt_identifier": "lxc"}


def test_virt_pid1_not_init(roots: tuple[Path, Path, Path]) -> None:
    put(roots[0] / "1/sched", "python3 (1, #threads: 4)\n")
    assert virt(roots) == {"virt_type": "container", "virt_identifier": "container-other"}


def test_virt_wsl(roots: tuple[Path, Path, Path]) -> None:
    put(roots[0] / "sys/kernel/osrelease", "5.15.146.1-microsoft-standard-WSL2\n")
    assert virt(roots) == {"virt_type": "container", "virt_identifier": "wsl"}


def test_virt_vm_from_hypervisor_flag_and_dmi(roots: tuple[Path, Path, Path]) -> None:
    put(roots[0] / "cpuinfo", X86_CPUINFO)
    assert virt(roots) == {"virt_type": "vm", "virt_identifier": "vm-other"}
    put(roots[1] / "class/dmi/id/sys_vendor", "QEMU\n")
    assert virt(roots) == {"virt_type": "vm", "virt_identifier": "qemu"}


def test_virt_container_wins_over_vm(roots: tuple[Path, Path, Path]) -> None:
    put(roots[0] / "cpuinfo", X86_CPUINFO)
    put(roots[2] / ".dockerenv", "")
    assert virt(roots)["virt_type"] == "container"
