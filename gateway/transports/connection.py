"""A long-lived client connection (a websocket), independent of the transport library."""

from __future__ import annotations

import itertools
from abc import ABC, abstractmethod
from collections.abc import Callable

_ids = itertools.count(1)


class Connection(ABC):
    """What components may know of a websocket: identity, client info, a way to send."""

    def __init__(self, ip: str) -> None:
        # Moonraker hands out large integers; a counter seeded from id() keeps them unique
        self.id: int = id(self) + next(_ids)
        self.ip = ip
        self.client_info: dict[str, object] = {}
        self.user: dict[str, object] | None = None
        self.trusted = True
        # per-connection state components attach (printer subscriptions, ...)
        self.state: dict[str, object] = {}

    @property
    def authenticated(self) -> bool:
        return self.trusted or self.user is not None

    @abstractmethod
    def send_bytes(self, data: bytes) -> None:
        """Queue one text frame; never blocks."""

    @abstractmethod
    def close(self, code: int, reason: str) -> None: ...


class ConnectionManager:
    def __init__(self) -> None:
        self.connections: dict[int, Connection] = {}
        # other channels that carry every broadcast too (the MQTT notification topic)
        self.taps: list[Callable[[bytes], None]] = []

    def add(self, conn: Connection) -> None:
        self.connections[conn.id] = conn

    def remove(self, conn: Connection) -> None:
        self.connections.pop(conn.id, None)

    def get(self, conn_id: int) -> Connection | None:
        return self.connections.get(conn_id)

    def __len__(self) -> int:
        return len(self.connections)

    def broadcast(self, frame: bytes) -> None:
        for conn in list(self.connections.values()):
            if conn.authenticated:
                conn.send_bytes(frame)
        for tap in self.taps:
            tap(frame)
