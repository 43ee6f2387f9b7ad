"""`[spoolman]` (Moonraker's options)."""

from __future__ import annotations

import re

import msgspec


class SpoolmanSection(msgspec.Struct, kw_only=True):
    # the Spoolman server, e.g. http://192.168.0.123:7912 (required)
    server: str = ""
    # seconds between usage reports
    sync_rate: int = 5

    def __post_init__(self) -> None:
        if not self.server.strip():
            raise ValueError("option 'server': the Spoolman URL is required "
                             "(e.g. http://192.168.0.123:7912)")
        if urls(self.server) is None:
            raise ValueError(f"option 'server': expected http(s)://host[:port], got "
                             f"{self.server}")
        if self.sync_rate < 1:
            raise ValueError("option 'sync_rate': expected at least 1 second")


def urls(server: str) -> tuple[str, str] | None:
    """(API base, websocket URL): 'http://h:7912' → ('http://h:7912/api',
    'ws://h:7912/api/v1/spool')."""
    match = re.fullmatch(r"(?:(?P<scheme>https?)://)?(?P<host>[^/\s]+)(?P<path>/[^\s]*)?",
                         server.strip(), re.I)
    if match is None:
        return None
    scheme = (match["scheme"] or "http").lower()
    base = f"{match['host']}{(match['path'] or '').rstrip('/')}"
    ws_scheme = "wss" if scheme == "https" else "ws"
    return f"{scheme}://{base}/api", f"{ws_scheme}://{base}/api/v1/spool"
