"""[zeroconf]: mDNS discovery as `_moonraker._tcp` and `_octoprint._tcp` (on by default
when the server listens beyond loopback)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gateway.component import ComponentSpec

if TYPE_CHECKING:
    from components.zeroconf.component import ZeroconfComponent
    from gateway.api import ServerApi

__all__ = ["COMPONENT", "load_component"]


def load_component(server: ServerApi) -> ZeroconfComponent:
    from components.zeroconf.component import ZeroconfComponent

    return ZeroconfComponent(server)


# always loaded: it decides from [server] host whether to advertise without a section
COMPONENT = ComponentSpec(load_component, always=True)
