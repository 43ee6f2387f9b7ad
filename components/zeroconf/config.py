"""The `[zeroconf]` section, typed (Moonraker's options and ours)."""

from __future__ import annotations

import msgspec


class ZeroconfSection(msgspec.Struct, kw_only=True):
    # on by default when the server listens beyond loopback; False turns discovery off
    enable: bool = True
    # the host name advertised: http://{mdns_hostname}.local:{port}/ (default: this host's)
    mdns_hostname: str | None = None
    # also advertise as an OctoPrint box (_octoprint._tcp), for slicers' host browsers
    advertise_octoprint: bool = True
    # Moonraker's UPnP/SSDP announcement: not offered by Skysail (a warning when True)
    enable_ssdp: bool = False

    def __post_init__(self) -> None:
        name = self.mdns_hostname
        if name is not None and (not name or "." in name or " " in name):
            raise ValueError(f"option 'mdns_hostname': expected a single host name label, "
                             f"got {name!r}")
