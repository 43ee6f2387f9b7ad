"""[zeroconf]: the server found by a real mDNS browser (the zeroconf package, multicast on
the loopback interface) as `_moonraker._tcp` and `_octoprint._tcp`; when it is on."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from zeroconf import IPVersion
from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

from components.zeroconf.component import is_loopback
from gateway.app import Server, ServerOptions
from tests.harness import running_server, wait_for, write_config


def config(hostname: str) -> str:
    return f"""
[server]
host: 127.0.0.1
port: 0

[zeroconf]
mdns_hostname: {hostname}
"""


async def browse(service_type: str, hostname: str) -> AsyncServiceInfo:
    """Ask the network (loopback) for the service of a type that `hostname` announces.
    Other suites on this machine may announce theirs on the same multicast group at the
    same time: ours is told apart by its (per-test) host name, never taken as the first."""
    from zeroconf.asyncio import AsyncServiceBrowser

    names: list[str] = []

    def on_change(zeroconf: Any, service_type: str, name: str, state_change: Any) -> None:
        names.append(name)

    def ours() -> list[str]:
        return [name for name in names if f"{hostname})" in name or f"@ {hostname}." in name]

    client = AsyncZeroconf(interfaces=["127.0.0.1"], ip_version=IPVersion.V4Only)
    browser = AsyncServiceBrowser(client.zeroconf, [service_type], handlers=[on_change])
    try:
        await wait_for(lambda: bool(ours()), what=f"{hostname}'s {service_type} service")
        [name] = set(ours())
        info = AsyncServiceInfo(service_type, name)
        # generous: a loaded machine may be slow; a healthy one answers at once
        assert await info.async_request(client.zeroconf, 10000), name
        assert info.server == f"{hostname}.local."
        return info
    finally:
        await browser.async_cancel()
        await client.async_close()


async def test_the_server_is_found_as_moonraker_and_as_octoprint(tmp_path: Path) -> None:
    hostname = f"skysail-test-{uuid.uuid4().hex[:8]}"
    async with running_server(tmp_path, config(hostname)) as srv:
        ws = await srv.websocket()
        assert "zeroconf" in (await ws.call("server.info"))["components"]
        moonraker = await browse("_moonraker._tcp.local.", hostname)
        assert moonraker.port == srv.port
        assert moonraker.parsed_addresses() == ["127.0.0.1"]
        props = {k.decode(): (v or b"").decode() for k, v in moonraker.properties.items()}
        assert len(props["uuid"]) == 32 and props["version"]
        octoprint = await browse("_octoprint._tcp.local.", hostname)
        assert octoprint.port == srv.port
        assert octoprint.properties[b"path"] == b"/"
        assert octoprint.properties[b"api"] == b"0.1"
        # the same instance uuid after a restart (kept in the database)
    async with running_server(tmp_path, config(hostname)) as srv:
        again = await browse("_moonraker._tcp.local.", hostname)
        assert again.port == srv.port
        assert again.properties[b"uuid"].decode() == props["uuid"]


@pytest.mark.parametrize(("config", "active"), [
    ("[server]\nhost: 127.0.0.1\n", False),
    ("[server]\nhost: 0.0.0.0\n", True),
    ("[server]\nhost: 192.0.2.10\n", True),
    ("[server]\nhost: 0.0.0.0\n[zeroconf]\nenable: False\n", False),
    ("[server]\nhost: 127.0.0.1\n[zeroconf]\n", True),
])
async def test_on_by_default_beyond_loopback_and_listed_only_when_on(
    tmp_path: Path, config: str, active: bool
) -> None:
    write_config(tmp_path, config)
    server = Server(ServerOptions(data_dir=tmp_path))
    component: Any = server.components["zeroconf"]
    assert component.active is active
    assert component.moonraker_names == (("zeroconf",) if active else ())
    server.database.close()


def test_loopback_hosts() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")


def test_the_example_documents_every_option() -> None:
    from components.zeroconf.config import ZeroconfSection
    from tests.config_example import commented_config

    config = commented_config("zeroconf")
    assert set(config.raw("zeroconf")) == set(ZeroconfSection.__struct_fields__)
    assert config.section("zeroconf", ZeroconfSection).mdns_hostname == "prusa-mk4"
