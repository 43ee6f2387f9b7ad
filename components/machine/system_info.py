"""Static-ish host description for ``machine.system_info``.

Everything is read from procfs, sysfs, ``/etc/os-release`` and a couple of
syscalls; no subprocesses are spawned (note that ``platform.processor()`` and
``platform.architecture()`` would run ``uname -p`` / ``file``, so they are not
used).  The network and CAN interfaces are network.py's.

The output mirrors Moonraker 0.11 with ``[machine] provider: none``.  All
collectors are best effort: unreadable sources yield empty strings/dicts.
"""

from __future__ import annotations

import os
import re
import struct
import sys
from collections.abc import Iterable, Mapping
from typing import TypedDict

from components.machine.memory import parse_meminfo
from components.machine.network import NetworkInterfaceInfo, collect_canbus, collect_network
from components.machine.readers import read_stripped, read_text

__all__ = [
    "CpuInfo",
    "DistributionInfo",
    "VirtualizationInfo",
    "collect_cpu_info",
    "collect_distribution",
    "collect_sd_info",
    "collect_system_info",
    "collect_virtualization",
    "parse_os_release",
]


class CpuInfo(TypedDict):
    cpu_count: int | None
    bits: str
    processor: str
    cpu_desc: str
    serial_number: str
    hardware_desc: str
    model: str
    total_memory: int | None
    memory_units: str


class VersionParts(TypedDict):
    major: str
    minor: str
    build_number: str


class DistributionInfo(TypedDict):
    name: str
    id: str
    version: str
    version_parts: VersionParts
    like: str
    codename: str
    release_info: dict[str, str]
    kernel_version: str


class VirtualizationInfo(TypedDict):
    virt_type: str
    virt_identifier: str


# Container managers as named by systemd-detect-virt.
_CONTAINER_IDS = (
    "docker",
    "podman",
    "lxc",
    "lxc-libvirt",
    "systemd-nspawn",
    "openvz",
    "rkt",
    "wsl",
    "proot",
    "pouch",
)

# DMI vendor/product fragments -> systemd-detect-virt VM identifiers.
_DMI_VM_IDS = (
    ("qemu", "qemu"),
    ("kvm", "kvm"),
    ("vmware", "vmware"),
    ("virtualbox", "oracle"),
    ("innotek", "oracle"),
    ("xen", "xen"),
    ("amazon ec2", "amazon"),
    ("parallels", "parallels"),
    ("bochs", "bochs"),
    ("google", "google"),
    ("microsoft corporation", "microsoft"),
    ("apple virtualization", "apple"),
)

# JEDEC/SD Association manufacturer IDs (CID byte 0) that are well established.
_SD_MANUFACTURERS = {
    "01": "Panasonic",
    "02": "Toshiba",
    "03": "SanDisk",
    "1b": "Samsung",
    "1d": "ADATA",
    "27": "Phison",
    "28": "Lexar",
    "41": "Kingston",
    "82": "Sony",
}



# -- cpu_info ---------------------------------------------------------------


def collect_cpu_info(*, proc_root: str = "/proc", sys_root: str = "/sys") -> CpuInfo:
    """``cpu_info``: counts and descriptions from cpuinfo, memory from meminfo."""
    uname = os.uname()
    info: CpuInfo = {
        "cpu_count": os.cpu_count(),
        "bits": f"{struct.calcsize('P') * 8}bit",
        "processor": uname.machine,
        "cpu_desc": "",
        "serial_number": "",
        "hardware_desc": "",
        "model": "",
        "total_memory": None,
        "memory_units": "",
    }
    cpuinfo = read_text(os.path.join(proc_root, "cpuinfo"))
    if cpuinfo:
        blocks = [b for b in cpuinfo.strip().split("\n\n") if b.strip()]
        for block in blocks:
            desc = _cpuinfo_field(block, "model name")
            if desc:
                info["cpu_desc"] = desc
                break
        if blocks:
            # Board-level fields (Raspberry Pi kernels) trail the per-CPU blocks.
            tail = blocks[-1]
            info["hardware_desc"] = _cpuinfo_field(tail, "Hardware")
            info["serial_number"] = _cpuinfo_field(tail, "Serial").lstrip("0")
            info["model"] = _cpuinfo_field(tail, "Model")
    devicetree = os.path.join(sys_root, "firmware/devicetree/base")
    if not info["model"]:
        info["model"] = read_stripped(os.path.join(devicetree, "model"))
    if not info["serial_number"]:
        info["serial_number"] = read_stripped(os.path.join(devicetree, "serial-number")).lstrip(
            "0"
        )
    meminfo = read_text(os.path.join(proc_root, "meminfo"), 4096)
    total = parse_meminfo(meminfo.encode()).get("total") if meminfo else None
    if total is not None:
        info["total_memory"] = total
        info["memory_units"] = "kB"
    return info


def _cpuinfo_field(block: str, key: str) -> str:
    for line in block.splitlines():
        name, sep, value = line.partition(":")
        if sep and name.strip() == key:
            return value.strip()
    return ""


# -- sd_info ----------------------------------------------------------------


def _bits(reg: int, high: int, low: int) -> int:
    """Bits ``[high:low]`` (inclusive) of a 128-bit SD register."""
    return (reg >> low) & ((1 << (high - low + 1)) - 1)


def collect_sd_info(*, sys_root: str = "/sys", device: str = "mmcblk0") -> dict[str, object]:
    """``sd_info`` decoded from the SD card's CID/CSD registers, or ``{}``."""
    dev_dir = os.path.join(sys_root, "block", device, "device")
    cid_text = read_stripped(os.path.join(dev_dir, "cid")).lower()
    if len(cid_text) != 32:
        return {}
    try:
        cid = int(cid_text, 16)
        mid = f"{_bits(cid, 127, 120):02x}"
        name = _bits(cid, 103, 64).to_bytes(5, "big").decode("ascii", "ignore")
        year = 2000 + _bits(cid, 19, 12)
        month = _bits(cid, 11, 8)
        info: dict[str, object] = {
            "manufacturer_id": mid,
            "manufacturer": _SD_MANUFACTURERS.get(mid, "Unknown"),
            "oem_id": cid_text[2:6],
            "product_name": name.strip("\x00"),
            "product_revision": f"{_bits(cid, 63, 60)}.{_bits(cid, 59, 56)}",
            "serial_number": f"{_bits(cid, 55, 24):08x}",
            "manufacturer_date": f"{month}/{year}",
        }
    except ValueError:
        return {}
    info["capacity"] = "Unknown"
    info["total_bytes"] = 0
    total = _sd_capacity(read_stripped(os.path.join(dev_dir, "csd")).lower())
    if total is not None:
        info["total_bytes"] = total
        info["capacity"] = _format_capacity(total)
    return info


def _sd_capacity(csd_text: str) -> int | None:
    if len(csd_text) != 32:
        return None
    try:
        csd = int(csd_text, 16)
    except ValueError:
        return None
    structure = _bits(csd, 127, 126)
    if structure == 0:  # SDSC: (C_SIZE+1) * 2^(C_SIZE_MULT+2) * 2^READ_BL_LEN
        c_size = _bits(csd, 73, 62)
        mult = 1 << (_bits(csd, 49, 47) + 2)
        block_len = 1 << _bits(csd, 83, 80)
        return (c_size + 1) * mult * block_len
    if structure == 1:  # SDHC/SDXC: 22-bit C_SIZE in 512 KiB units
        return (_bits(csd, 69, 48) + 1) * 512 * 1024
    if structure == 2:  # SDUC: 28-bit C_SIZE in 512 KiB units
        return (_bits(csd, 75, 48) + 1) * 512 * 1024
    return None


def _format_capacity(total: int) -> str:
    for unit, scale in (("TiB", 1 << 40), ("GiB", 1 << 30)):
        if total >= scale:
            return f"{total / scale:.1f} {unit}"
    return f"{total / (1 << 20):.1f} MiB"


# -- distribution -----------------------------------------------------------


def parse_os_release(text: str) -> dict[str, str]:
    """Parse os-release(5) ``KEY=value`` lines (shell-style quoting)."""
    out: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.isidentifier():
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            quote = value[0]
            value = value[1:-1]
            if quote == '"':
                value = re.sub(r"\\([\\$\"`])", r"\1", value)
        out[key] = value
    return out


def collect_distribution(*, root: str = "/") -> DistributionInfo:
    """``distribution`` from ``/etc/os-release`` (or ``/usr/lib/os-release``)."""
    fields: dict[str, str] = {}
    for rel in ("etc/os-release", "usr/lib/os-release"):
        text = read_text(os.path.join(root, rel), 65536)
        if text is not None:
            fields = parse_os_release(text)
            break
    version = fields.get("VERSION_ID", "")
    match = re.match(r"(\d+)\.?(\d+)?\.?(\d+)?", version)
    parts: VersionParts = {
        "major": (match.group(1) or "") if match else "",
        "minor": (match.group(2) or "") if match else "",
        "build_number": (match.group(3) or "") if match else "",
    }
    codename = fields.get("VERSION_CODENAME") or fields.get("UBUNTU_CODENAME") or ""
    if not codename:
        # e.g. VERSION="10 (buster)" or VERSION="20.04.6 LTS, Focal Fossa"
        full = fields.get("VERSION", "")
        paren = re.search(r"\(([^)]+)\)", full)
        if paren:
            codename = paren.group(1).strip()
        elif "," in full:
            codename = full.split(",", 1)[1].strip()
    name = fields.get("PRETTY_NAME") or " ".join(p for p in (fields.get("NAME", ""), version) if p)
    return {
        "name": name,
        "id": fields.get("ID", "").lower(),
        "version": version,
        "version_parts": parts,
        "like": fields.get("ID_LIKE", ""),
        "codename": codename,
        "release_info": {},
        "kernel_version": os.uname().release,
    }


# -- virtualization -----------------------------------------------------------


def collect_virtualization(
    *, proc_root: str = "/proc", sys_root: str = "/sys", root: str = "/"
) -> VirtualizationInfo:
    """Best-effort equivalent of ``systemd-detect-virt`` (innermost layer wins)."""
    container = _detect_container(proc_root, root)
    if container:
        return {"virt_type": "container", "virt_identifier": container}
    vm = _detect_vm(proc_root, sys_root)
    if vm:
        return {"virt_type": "vm", "virt_identifier": vm}
    return {"virt_type": "none", "virt_identifier": "none"}


def _detect_container(proc_root: str, root: str) -> str:
    # systemd (and podman, nspawn, lxc) write the manager's name here.
    marker = read_stripped(os.path.join(root, "run/systemd/container"))
    if marker:
        return marker if marker in _CONTAINER_IDS else marker.split()[0]
    if os.path.exists(os.path.join(root, ".dockerenv")):
        return "docker"
    if os.path.exists(os.path.join(root, "run/.containerenv")):
        return "podman"
    cgroup = (read_text(os.path.join(proc_root, "1/cgroup"), 65536) or "").lower()
    for needle, ident in (
        ("docker", "docker"),
        ("libpod", "podman"),
        ("lxc", "lxc"),
        ("kubepods", "container-other"),
        ("containerd", "container-other"),
    ):
        if needle in cgroup:
            return ident
    osrelease = read_stripped(os.path.join(proc_root, "sys/kernel/osrelease")).lower()
    if "microsoft" in osrelease or "wsl" in osrelease:
        return "wsl"
    # PID 1 of a full system is init/systemd; anything else means we live in a
    # container whose manager left no other trace.
    sched = read_text(os.path.join(proc_root, "1/sched"), 256)
    if sched:
        first = sched.split(None, 1)
        if first and first[0] not in ("init", "systemd"):
            return "container-other"
    return ""


def _detect_vm(proc_root: str, sys_root: str) -> str:
    hyp = read_stripped(os.path.join(sys_root, "hypervisor/type")).lower()
    dmi = " ".join(
        read_stripped(os.path.join(sys_root, "class/dmi/id", leaf)).lower()
        for leaf in ("sys_vendor", "product_name", "bios_vendor")
    )
    cpuinfo = read_text(os.path.join(proc_root, "cpuinfo"), 1 << 16) or ""
    flagged = False
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            flagged = "hypervisor" in line.split(":", 1)[-1].split()
            break
    if not (flagged or hyp):
        return ""
    for needle, ident in _DMI_VM_IDS:
        if needle in dmi:
            return ident
    if hyp:
        return hyp
    return "vm-other"


# -- top level ------------------------------------------------------------------


def collect_system_info(
    *,
    instance_id: str = "skysail",
    klipper_instance_id: str = "klipper",
    provider: str = "none",
    available_services: Iterable[str] = (),
    service_state: Mapping[str, Mapping[str, str]] | None = None,
    proc_root: str = "/proc",
    sys_root: str = "/sys",
    root: str = "/",
    network: Mapping[str, NetworkInterfaceInfo] | None = None,
) -> dict[str, object]:
    """The full ``machine.system_info`` result: ``{"system_info": {...}}``.

    ``network`` may carry a cached :func:`collect_network` result (Moonraker
    refreshes it every ~10 s rather than per request); by default it is
    collected now.
    """
    if network is None:
        network = collect_network(sys_root=sys_root, proc_root=proc_root)
    info: dict[str, object] = {
        "python": {
            "version": list(sys.version_info),
            "version_string": sys.version.replace("\n", " "),
        },
        "cpu_info": collect_cpu_info(proc_root=proc_root, sys_root=sys_root),
        "sd_info": collect_sd_info(sys_root=sys_root),
        "distribution": collect_distribution(root=root),
        "virtualization": collect_virtualization(proc_root=proc_root, sys_root=sys_root, root=root),
        "network": dict(network),
        "canbus": collect_canbus(sys_root=sys_root),
        "provider": provider,
        "available_services": list(available_services),
        "service_state": {k: dict(v) for k, v in (service_state or {}).items()},
        "instance_ids": {"moonraker": instance_id, "klipper": klipper_instance_id},
    }
    return {"system_info": info}
