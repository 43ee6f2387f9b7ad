"""mDNS discovery: the server advertised as `_moonraker._tcp` (Moonraker's service, which
apps and KlipperScreen-style clients browse) and as `_octoprint._tcp` (slicers' OctoPrint
host browsers), with the zeroconf package.

Loaded always, active when `[zeroconf]` exists (and `enable` is True) or, without the
section, when the server listens beyond loopback; an inactive component is not listed in
server.info's components. Services are registered once the server listens (the port is
known then), on the addresses it listens on, and withdrawn on stop.

Events consumed: ServerStarted.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from components.zeroconf.config import ZeroconfSection
from gateway.component import BaseComponent
from gateway.events import ServerStarted
from gateway.version import VERSION

if TYPE_CHECKING:
    from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

    from gateway.api import ServerApi

log = logging.getLogger(__name__)

MOONRAKER_TYPE = "_moonraker._tcp.local."
OCTOPRINT_TYPE = "_octoprint._tcp.local."
# the versions the OctoPrint-compatible API answers with (components/octoprint)
OCTOPRINT_VERSION = "1.5.0"
OCTOPRINT_API = "0.1"
UUID_NAMESPACE = "zeroconf"


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return host == "localhost"
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def listen_addresses(host: str) -> list[str]:
    """The addresses to advertise: the one listened on, or every non-loopback address of
    this machine when listening on all (0.0.0.0 / ::)."""
    if host not in ("0.0.0.0", "::", ""):
        try:
            ipaddress.ip_address(host)
        except ValueError:
            # a host name: the addresses it stands for
            return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, None)})
        return [host]
    import ifaddr

    out: list[str] = []
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            address = ip.ip if isinstance(ip.ip, str) else ip.ip[0]
            try:
                parsed = ipaddress.ip_address(address)
            except ValueError:
                continue
            if parsed.is_loopback or parsed.is_link_local:
                continue
            if host == "0.0.0.0" and parsed.version != 4:
                continue
            out.append(address)
    return out


class ZeroconfComponent(BaseComponent):
    def __init__(self, server: ServerApi) -> None:
        self.server = server
        self.config = server.config.section("zeroconf", ZeroconfSection)
        host = server.server_config.host
        configured = server.config.has_section("zeroconf")
        self.active = self.config.enable and (configured or not is_loopback(host))
        self.moonraker_names: tuple[str, ...] = ("zeroconf",) if self.active else ()
        self.hostname = self.config.mdns_hostname or socket.gethostname().split(".")[0]
        self.addresses = listen_addresses(host) if self.active else []
        self.infos: list[AsyncServiceInfo] = []
        self._zc: AsyncZeroconf | None = None
        self._unsubscribe: list[Callable[[], None]] = []
        if self.active:
            self._unsubscribe.append(server.events.subscribe(ServerStarted, self._register))
            if self.config.enable_ssdp:
                log.warning("[zeroconf] enable_ssdp: SSDP is not offered by Skysail; "
                            "mDNS only")

    async def _instance_uuid(self) -> str:
        db = self.server.database
        value = db.get_item_sync(UUID_NAMESPACE, "instance_uuid")
        if isinstance(value, str):
            return value
        value = uuid.uuid4().hex
        await db.insert_item(UUID_NAMESPACE, "instance_uuid", value)
        return value

    def service_infos(self, port: int, instance_uuid: str) -> list[AsyncServiceInfo]:
        from zeroconf.asyncio import AsyncServiceInfo

        packed = [socket.inet_pton(socket.AF_INET6 if ":" in a else socket.AF_INET, a)
                  for a in self.addresses]
        name = f"Skysail-{instance_uuid[:8]}"
        server_name = f"{self.hostname}.local."
        infos = [AsyncServiceInfo(
            MOONRAKER_TYPE, f"{name} @ {self.hostname}.{MOONRAKER_TYPE}",
            addresses=packed, port=port, server=server_name,
            properties={"uuid": instance_uuid, "version": VERSION, "https_port": ""})]
        if self.config.advertise_octoprint:
            infos.append(AsyncServiceInfo(
                OCTOPRINT_TYPE, f"{name} ({self.hostname}).{OCTOPRINT_TYPE}",
                addresses=packed, port=port, server=server_name,
                properties={"path": "/", "version": OCTOPRINT_VERSION,
                            "api": OCTOPRINT_API, "model": "Skysail", "vendor": "Skysail"}))
        return infos

    async def _register(self, event: ServerStarted) -> None:
        if not self.addresses or not event.port:
            log.warning("zeroconf: no address to advertise")
            return
        from zeroconf import IPVersion
        from zeroconf.asyncio import AsyncZeroconf

        instance_uuid = await self._instance_uuid()
        self.infos = self.service_infos(event.port, instance_uuid)
        kinds = {":" in a for a in self.addresses}
        version = IPVersion.All if len(kinds) == 2 else (
            IPVersion.V6Only if True in kinds else IPVersion.V4Only)
        self._zc = AsyncZeroconf(interfaces=self.addresses, ip_version=version)
        for info in self.infos:
            await self._zc.async_register_service(info)
        log.info("zeroconf: advertising %s on %s port %d",
                 ", ".join(i.type for i in self.infos), ", ".join(self.addresses), event.port)

    def info(self) -> dict[str, object]:
        return {"active": self.active, "hostname": self.hostname,
                "addresses": self.addresses, "services": [i.name for i in self.infos]}

    async def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        if self._zc is not None:
            await self._zc.async_unregister_all_services()
            await self._zc.async_close()
            self._zc = None
