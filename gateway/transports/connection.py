"""A long-lived client connection (a websocket), independent of the transport library."""

from __future__ import annotations

import asyncio
import itertools
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Protocol

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
        # sockets still to authenticate, JSON-RPC and push alike
        self.gate = SocketGate()

    def authenticated_count(self) -> int:
        return sum(1 for conn in self.connections.values() if conn.authenticated)

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


# -- websockets that have not authenticated (issue 17 item 5) ----------------------------

# a socket must authenticate this soon after opening, or it is closed
AUTH_TIMEOUT = 10.0
# how many sockets may wait to authenticate: per client address, and in all
UNAUTHENTICATED_PER_ADDRESS = 4
UNAUTHENTICATED_TOTAL = 32
CLOSE_POLICY = 1008
CLOSE_TRY_AGAIN_LATER = 1013


class GatedSocket(Protocol):
    ip: str

    def is_authenticated(self) -> bool: ...

    def close(self, code: int, reason: str) -> None: ...


class SocketGate:
    """Websockets (JSON-RPC and the OctoPrint push channel) that opened without
    credentials wait here: a few per address and a bounded number in all, never counted
    against the slots authenticated clients use, and closed when they have not
    authenticated within AUTH_TIMEOUT."""

    def __init__(self, per_address: int = UNAUTHENTICATED_PER_ADDRESS,
                 total: int = UNAUTHENTICATED_TOTAL, timeout: float = AUTH_TIMEOUT) -> None:
        self.per_address = per_address
        self.total = total
        self.timeout = timeout
        self._waiting: dict[int, tuple[GatedSocket, asyncio.TimerHandle]] = {}

    def __len__(self) -> int:
        return len(self._waiting)

    def admit(self, sock: GatedSocket) -> bool:
        """Let an unauthenticated socket wait (True), or close it (False): too many wait."""
        self._purge()
        same = sum(1 for s, _ in self._waiting.values() if s.ip == sock.ip)
        if same >= self.per_address or len(self._waiting) >= self.total:
            sock.close(CLOSE_TRY_AGAIN_LATER,
                       "Too many connections waiting to authenticate; try again later")
            return False
        timer = asyncio.get_running_loop().call_later(self.timeout, self._expire, sock)
        self._waiting[id(sock)] = (sock, timer)
        return True

    def release(self, sock: GatedSocket) -> None:
        """The socket closed (or authenticated): it waits no more."""
        entry = self._waiting.pop(id(sock), None)
        if entry is not None:
            entry[1].cancel()

    def _purge(self) -> None:
        for sock, _ in list(self._waiting.values()):
            if sock.is_authenticated():
                self.release(sock)

    def _expire(self, sock: GatedSocket) -> None:
        self._waiting.pop(id(sock), None)
        if not sock.is_authenticated():
            sock.close(CLOSE_POLICY,
                       f"Not authenticated within {self.timeout:.0f} seconds")
