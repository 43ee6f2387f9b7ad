"""Static-ish host description for ``machine.system_info``.

Everything is read from procfs, sysfs, ``/etc/os-release`` and a couple of
syscalls; no subprocesses are spawned (note that ``platform.processor()`` and
``platform.architecture()`` would run ``uname -p`` / ``file``, so they are not
used).  Interface addresses come from an rtnetlink dump, falling back to
``SIOCGIFADDR`` plus ``<proc>/net/if_inet6`` where netlink is unavailable.

The output mirrors Moonraker 0.11 with ``[machine] provider: none``.  All
collectors are best effort: unreadable sources yield empty strings/dicts.
"""

from __future__ import annotations

import fcntl
import ipaddress
import os
import re
import socket
import struct
import sys
from collections.abc import Iterable, Mapping
from typing import Any, TypedDict

from components.machine.memory import parse_meminfo

__all__ = [
    "CanbusInfo",
    "CpuInfo",
    "DistributionInfo",
    "IpAddressInfo",
    "NetworkInterfaceInfo",
    "VirtualizationInfo",
    "collect_canbus",
    "collect_cpu_info",
    "collect_distribution",
    "collect_network",
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


class IpAddressInfo(TypedDict):
    family: str
    address: str
    is_link_local: bool


class NetworkInterfaceInfo(TypedDict):
    mac_address: str
    ip_addresses: list[IpAddressInfo]


class CanbusInfo(TypedDict):
    tx_queue_len: int
    bitrate: int
    driver: str


# ARPHRD_* link types (include/uapi/linux/if_arp.h)
_ARPHRD_ETHER = 1
_ARPHRD_CAN = 280
_IFF_UP = 0x1

# rtnetlink constants (include/uapi/linux/{netlink,rtnetlink,if_addr}.h)
_NETLINK_ROUTE = 0
_NLMSG_ERROR = 2
_NLMSG_DONE = 3
_RTM_NEWADDR = 20
_RTM_GETADDR = 22
_NLM_F_REQUEST = 0x1
_NLM_F_DUMP = 0x300
_IFA_ADDRESS = 1
_IFA_LOCAL = 2
_RT_SCOPE_LINK = 253
_NLMSG_HDR = struct.Struct("=IHHII")
_IFADDRMSG = struct.Struct("=BBBBI")
_RTATTR = struct.Struct("=HH")

_SIOCGIFADDR = 0x8915

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


def _read_text(path: str, limit: int = 1 << 20) -> str | None:
    try:
        with open(path, "rb") as f:
            return f.read(limit).decode("utf-8", "replace")
    except OSError:
        return None


def _read_stripped(path: str) -> str:
    text = _read_text(path, 4096)
    return "" if text is None else text.strip().strip("\x00").strip()


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
    cpuinfo = _read_text(os.path.join(proc_root, "cpuinfo"))
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
        info["model"] = _read_stripped(os.path.join(devicetree, "model"))
    if not info["serial_number"]:
        info["serial_number"] = _read_stripped(os.path.join(devicetree, "serial-number")).lstrip(
            "0"
        )
    meminfo = _read_text(os.path.join(proc_root, "meminfo"), 4096)
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


def collect_sd_info(*, sys_root: str = "/sys", device: str = "mmcblk0") -> dict[str, Any]:
    """``sd_info`` decoded from the SD card's CID/CSD registers, or ``{}``."""
    dev_dir = os.path.join(sys_root, "block", device, "device")
    cid_text = _read_stripped(os.path.join(dev_dir, "cid")).lower()
    if len(cid_text) != 32:
        return {}
    try:
        cid = int(cid_text, 16)
        mid = f"{_bits(cid, 127, 120):02x}"
        name = _bits(cid, 103, 64).to_bytes(5, "big").decode("ascii", "ignore")
        year = 2000 + _bits(cid, 19, 12)
        month = _bits(cid, 11, 8)
        info: dict[str, Any] = {
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
    total = _sd_capacity(_read_stripped(os.path.join(dev_dir, "csd")).lower())
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
        text = _read_text(os.path.join(root, rel), 65536)
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
    marker = _read_stripped(os.path.join(root, "run/systemd/container"))
    if marker:
        return marker if marker in _CONTAINER_IDS else marker.split()[0]
    if os.path.exists(os.path.join(root, ".dockerenv")):
        return "docker"
    if os.path.exists(os.path.join(root, "run/.containerenv")):
        return "podman"
    cgroup = (_read_text(os.path.join(proc_root, "1/cgroup"), 65536) or "").lower()
    for needle, ident in (
        ("docker", "docker"),
        ("libpod", "podman"),
        ("lxc", "lxc"),
        ("kubepods", "container-other"),
        ("containerd", "container-other"),
    ):
        if needle in cgroup:
            return ident
    osrelease = _read_stripped(os.path.join(proc_root, "sys/kernel/osrelease")).lower()
    if "microsoft" in osrelease or "wsl" in osrelease:
        return "wsl"
    # PID 1 of a full system is init/systemd; anything else means we live in a
    # container whose manager left no other trace.
    sched = _read_text(os.path.join(proc_root, "1/sched"), 256)
    if sched:
        first = sched.split(None, 1)
        if first and first[0] not in ("init", "systemd"):
            return "container-other"
    return ""


def _detect_vm(proc_root: str, sys_root: str) -> str:
    hyp = _read_stripped(os.path.join(sys_root, "hypervisor/type")).lower()
    dmi = " ".join(
        _read_stripped(os.path.join(sys_root, "class/dmi/id", leaf)).lower()
        for leaf in ("sys_vendor", "product_name", "bios_vendor")
    )
    cpuinfo = _read_text(os.path.join(proc_root, "cpuinfo"), 1 << 16) or ""
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


# -- network / canbus -----------------------------------------------------------


def _netlink_addresses(timeout: float = 1.0) -> dict[str, list[IpAddressInfo]]:
    """All configured addresses via an RTM_GETADDR dump, keyed by ifname."""
    out: dict[str, list[IpAddressInfo]] = {}
    names: dict[int, str] = {}
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, _NETLINK_ROUTE) as sock:
        sock.settimeout(timeout)
        sock.bind((0, 0))
        body = _IFADDRMSG.pack(socket.AF_UNSPEC, 0, 0, 0, 0)
        header = _NLMSG_HDR.pack(
            _NLMSG_HDR.size + len(body), _RTM_GETADDR, _NLM_F_REQUEST | _NLM_F_DUMP, 1, 0
        )
        sock.sendall(header + body)
        done = False
        while not done:
            buf = sock.recv(65536)
            if not buf:
                break
            offset = 0
            while offset + _NLMSG_HDR.size <= len(buf):
                length, msg_type, _flags, _seq, _pid = _NLMSG_HDR.unpack_from(buf, offset)
                if length < _NLMSG_HDR.size:
                    done = True
                    break
                if msg_type == _NLMSG_DONE:
                    done = True
                    break
                if msg_type == _NLMSG_ERROR:
                    (code,) = struct.unpack_from("=i", buf, offset + _NLMSG_HDR.size)
                    raise OSError(-code, "rtnetlink RTM_GETADDR failed")
                if msg_type == _RTM_NEWADDR:
                    _parse_newaddr(buf, offset + _NLMSG_HDR.size, offset + length, names, out)
                offset += (length + 3) & ~3
    return out


def _parse_newaddr(
    buf: bytes,
    start: int,
    end: int,
    names: dict[int, str],
    out: dict[str, list[IpAddressInfo]],
) -> None:
    family, _plen, _flags, scope, index = _IFADDRMSG.unpack_from(buf, start)
    if family not in (socket.AF_INET, socket.AF_INET6):
        return
    attrs: dict[int, bytes] = {}
    pos = start + _IFADDRMSG.size
    while pos + _RTATTR.size <= end:
        rta_len, rta_type = _RTATTR.unpack_from(buf, pos)
        if rta_len < _RTATTR.size:
            break
        attrs[rta_type] = buf[pos + _RTATTR.size : pos + rta_len]
        pos += (rta_len + 3) & ~3
    # IFA_LOCAL is the interface's own address; IFA_ADDRESS is the peer on
    # point-to-point links (and the only one present for IPv6).
    raw = attrs.get(_IFA_LOCAL) or attrs.get(_IFA_ADDRESS)
    if raw is None:
        return
    if index not in names:
        try:
            names[index] = socket.if_indextoname(index)
        except OSError:
            names[index] = ""
    name = names[index]
    if not name:
        return
    out.setdefault(name, []).append(
        {
            "family": "ipv4" if family == socket.AF_INET else "ipv6",
            "address": socket.inet_ntop(family, raw),
            "is_link_local": scope == _RT_SCOPE_LINK,
        }
    )


def _fallback_addresses(names: Iterable[str], proc_root: str) -> dict[str, list[IpAddressInfo]]:
    """Primary IPv4 address per interface (ioctl) plus IPv6 from if_inet6."""
    out: dict[str, list[IpAddressInfo]] = {}
    try:
        sock: socket.socket | None = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    except OSError:
        sock = None
    try:
        for name in names:
            if sock is None:
                break
            try:
                req = struct.pack("256s", name.encode()[:15])
                res = fcntl.ioctl(sock.fileno(), _SIOCGIFADDR, req)
            except OSError:
                continue
            addr = socket.inet_ntoa(res[20:24])
            out.setdefault(name, []).append(
                {
                    "family": "ipv4",
                    "address": addr,
                    "is_link_local": ipaddress.IPv4Address(addr).is_link_local,
                }
            )
    finally:
        if sock is not None:
            sock.close()
    for name, entry in _parse_if_inet6(_read_text(os.path.join(proc_root, "net/if_inet6")) or ""):
        out.setdefault(name, []).append(entry)
    return out


def _parse_if_inet6(text: str) -> list[tuple[str, IpAddressInfo]]:
    rows: list[tuple[str, IpAddressInfo]] = []
    for line in text.splitlines():
        cols = line.split()
        if len(cols) < 6 or len(cols[0]) != 32:
            continue
        try:
            addr = ipaddress.IPv6Address(bytes.fromhex(cols[0]))
            scope = int(cols[3], 16)
        except ValueError:
            continue
        rows.append(
            (
                cols[5],
                {
                    "family": "ipv6",
                    "address": str(addr),
                    "is_link_local": scope == 0x20,
                },
            )
        )
    return rows


def _interface_dirs(sys_root: str) -> list[tuple[str, str]]:
    base = os.path.join(sys_root, "class/net")
    try:
        names = sorted(os.listdir(base))
    except OSError:
        return []
    return [(name, os.path.join(base, name)) for name in names]


def _int_file(path: str, default: int = -1) -> int:
    try:
        return int(_read_stripped(path), 0)
    except ValueError:
        return default


def _is_up(iface_dir: str) -> bool:
    state = _read_stripped(os.path.join(iface_dir, "operstate")).lower()
    if state == "up":
        return True
    # Some drivers never set an operstate; fall back to the IFF_UP flag.
    return state == "unknown" and bool(_int_file(os.path.join(iface_dir, "flags"), 0) & _IFF_UP)


def collect_network(
    *,
    sys_root: str = "/sys",
    proc_root: str = "/proc",
    addresses: Mapping[str, list[IpAddressInfo]] | None = None,
) -> dict[str, NetworkInterfaceInfo]:
    """``network``: up, Ethernet-type (incl. Wi-Fi) interfaces that have an address.

    ``addresses`` (ifname -> addresses) overrides the netlink/ioctl lookup,
    which is what tests with a fake ``sys_root`` need.
    """
    candidates: list[tuple[str, str]] = []
    for name, path in _interface_dirs(sys_root):
        if _int_file(os.path.join(path, "type")) != _ARPHRD_ETHER or not _is_up(path):
            continue
        candidates.append((name, _read_stripped(os.path.join(path, "address"))))
    if not candidates:
        return {}
    if addresses is None:
        try:
            addresses = _netlink_addresses()
        except (OSError, ValueError, struct.error):
            # No rtnetlink (seccomp, exotic sandbox) or a garbled reply.
            addresses = _fallback_addresses([n for n, _ in candidates], proc_root)
    network: dict[str, NetworkInterfaceInfo] = {}
    for name, mac in candidates:
        addrs = list(addresses.get(name, ()))
        if addrs:
            network[name] = {"mac_address": mac, "ip_addresses": addrs}
    return network


def collect_canbus(*, sys_root: str = "/sys") -> dict[str, CanbusInfo]:
    """``canbus``: up CAN interfaces.

    sysfs does not expose the bit rate (that needs an RTM_GETLINK dump with
    nested IFLA_CAN_BITTIMING), so ``bitrate`` is -1; ``driver`` is the name
    of the bound kernel driver.
    """
    out: dict[str, CanbusInfo] = {}
    for name, path in _interface_dirs(sys_root):
        if _int_file(os.path.join(path, "type")) != _ARPHRD_CAN or not _is_up(path):
            continue
        try:
            driver = os.path.basename(os.readlink(os.path.join(path, "device/driver")))
        except OSError:
            driver = "unknown"
        out[name] = {
            "tx_queue_len": _int_file(os.path.join(path, "tx_queue_len")),
            "bitrate": -1,
            "driver": driver or "unknown",
        }
    return out


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
) -> dict[str, Any]:
    """The full ``machine.system_info`` result: ``{"system_info": {...}}``.

    ``network`` may carry a cached :func:`collect_network` result (Moonraker
    refreshes it every ~10 s rather than per request); by default it is
    collected now.
    """
    if network is None:
        network = collect_network(sys_root=sys_root, proc_root=proc_root)
    info: dict[str, Any] = {
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
