"""The transport-neutral request a handler receives: who asks, how, and the raw
arguments. A row's declared parameters (gateway/params.py) are converted from `args` by
the door and given to the handler as its first argument; `args` stays for the access
check (credentials in the query) and the rare row that reads free-form names itself.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from gateway.transports.connection import Connection

T = TypeVar("T")


class Transport(enum.Enum):
    HTTP = "http"
    WEBSOCKET = "websocket"
    MQTT = "mqtt"
    INTERNAL = "internal"


@dataclass(slots=True)
class Caller:
    """Who is asking: the peer address and, once authenticated, the user."""

    ip: str
    transport: Transport
    user: dict[str, Any] | None = None
    trusted: bool = True
    connection: Connection | None = None


@dataclass(slots=True)
class Request:
    method: str
    args: dict[str, object]
    caller: Caller
    http_method: str = "POST"
    path_args: dict[str, str] = field(default_factory=dict)
    # HTTP only: the request headers (the access component reads credentials here)
    headers: Mapping[str, str] | None = None

    @property
    def transport(self) -> Transport:
        return self.caller.transport

    @property
    def base_url(self) -> str:
        """HTTP: `http://<Host>` as the client addressed us (for links in answers)."""
        host = self.headers.get("Host", "") if self.headers is not None else ""
        return f"http://{host}" if host else ""
