"""Trusted clients: IP addresses, CIDR ranges and host names (resolved at start), and
the client address of a request that came through a reverse proxy."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
import socket
from collections.abc import Awaitable, Callable, Mapping

log = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str], Awaitable[list[str]]]

_HOSTNAME = re.compile(r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9-]{1,63}\.?")
RESOLVE_TIMEOUT = 5.0
VERDICT_CACHE_SIZE = 1024
# stands for a client whose address a proxy garbled; never trusted
UNKNOWN_CLIENT = "unknown"


def parse_ip(text: str) -> IPAddress | None:
    try:
        addr = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address):
        if addr.ipv4_mapped is not None:
            return addr.ipv4_mapped
        if addr.scope_id is not None:
            return ipaddress.IPv6Address(str(addr).split("%", 1)[0])
    return addr


async def system_resolver(host: str) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


class TrustedClients:
    def __init__(self, entries: list[str]) -> None:
        self.addresses: set[IPAddress] = set()
        self.networks: list[IPNetwork] = []
        self.hostnames: list[str] = []
        self.warnings: list[str] = []
        self._verdicts: dict[str, bool] = {}
        for entry in entries:
            self._add(entry.strip())

    def _add(self, entry: str) -> None:
        addr = parse_ip(entry)
        if addr is not None:
            self.addresses.add(addr)
            return
        try:
            self.networks.append(ipaddress.ip_network(entry))
            return
        except ValueError as exc:
            if "/" in entry:
                self.warnings.append(
                    f"[authorization]: Invalid CIDR expression '{entry}' in option "
                    f"'trusted_clients' ({exc})"
                )
                return
        if _HOSTNAME.fullmatch(entry.lower()):
            self.hostnames.append(entry.lower().rstrip("."))
        else:
            self.warnings.append(
                f"[authorization]: Invalid domain name '{entry}' in option 'trusted_clients'"
            )

    async def resolve(self, resolver: Resolver = system_resolver) -> None:
        """Add the addresses of the trusted host names (once, at start)."""
        for host in self.hostnames:
            try:
                async with asyncio.timeout(RESOLVE_TIMEOUT):
                    found = await resolver(host)
            except (OSError, TimeoutError) as exc:
                self.warnings.append(
                    f"[authorization]: trusted client '{host}' could not be resolved: {exc}"
                )
                continue
            for text in found:
                addr = parse_ip(text)
                if addr is not None:
                    self.addresses.add(addr)
            self._verdicts.clear()
            log.info("trusted client %s resolves to %s", host, ", ".join(found) or "nothing")

    def is_trusted(self, ip: str) -> bool:
        # every request asks, usually about the same few peers: parsing an address with
        # ipaddress costs more than serving server.info, so verdicts are remembered
        verdict = self._verdicts.get(ip)
        if verdict is None:
            verdict = self._judge(ip)
            if len(self._verdicts) >= VERDICT_CACHE_SIZE:
                self._verdicts.clear()
            self._verdicts[ip] = verdict
        return verdict

    def _judge(self, ip: str) -> bool:
        addr = parse_ip(ip)
        if addr is None:
            return False
        if addr in self.addresses:
            return True
        return any(addr in net for net in self.networks if net.version == addr.version)

    def client_ip(self, peer: str, headers: Mapping[str, str]) -> str:
        """The address to judge a request by. Forwarding headers count only when the peer
        itself (the reverse proxy) is trusted. X-Forwarded-For is read from the right,
        skipping trusted proxies: the first untrusted hop is the client; X-Real-Ip is used
        only when there is no X-Forwarded-For."""
        if not self.is_trusted(peer):
            return peer
        forwarded = headers.get("X-Forwarded-For")
        if forwarded is not None:
            client = peer
            for text in reversed(forwarded.split(",")[-32:]):
                addr = parse_ip(text)
                if addr is None:
                    # a hop we cannot read: nothing left of it can be trusted either
                    return UNKNOWN_CLIENT
                client = str(addr)
                if not self.is_trusted(client):
                    break
            return client
        real = headers.get("X-Real-Ip")
        if real is not None:
            addr = parse_ip(real)
            return str(addr) if addr is not None else peer
        return peer
