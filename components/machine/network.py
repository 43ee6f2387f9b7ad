"""``machine.system_info``'s ``network`` and ``canbus``: interface addresses from an
rtnetlink dump (falling back to ``SIOCGIFADDR`` plus ``<proc>/net/if_inet6`` where netlink
is unavailable) and CAN interfaces from sysfs. Best effort: no subprocesses, and an
unreadable source gives an empty answer."""

from __future__ import annotations

import fcntl
import ipaddress
import os
import socket
import struct
from collections.abc import Iterable, Mapping
from typing import TypedDict

from components.machine.readers import int_file, read_stripped, read_text

__all__ = [
    "CanbusInfo",
    "IpAddressInfo",
    "NetworkInterfaceInfo",
    "collect_canbus",
    "collect_network",
]


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
    for name, entry in _parse_if_inet6(read_text(os.path.join(proc_root, "net/if_inet6")) or ""):
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



def _is_up(iface_dir: str) -> bool:
    state = read_stripped(os.path.join(iface_dir, "operstate")).lower()
    if state == "up":
        return True
    # Some drivers never set an operstate; fall back to the IFF_UP flag.
    return state == "unknown" and bool(int_file(os.path.join(iface_dir, "flags"), 0) & _IFF_UP)


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
        if int_file(os.path.join(path, "type")) != _ARPHRD_ETHER or not _is_up(path):
            continue
        candidates.append((name, read_stripped(os.path.join(path, "address"))))
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
        if int_file(os.path.join(path, "type")) != _ARPHRD_CAN or not _is_up(path):
            continue
        try:
            driver = os.path.basename(os.readlink(os.path.join(path, "device/driver")))
        except OSError:
            driver = "unknown"
        out[name] = {
            "tx_queue_len": int_file(os.path.join(path, "tx_queue_len")),
            "bitrate": -1,
            "driver": driver or "unknown",
        }
    return out
