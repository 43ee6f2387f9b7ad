"""Events the link adds to the protocol's (see ``protocol.events``)."""

from __future__ import annotations

import enum

from .protocol.events import Event


class LinkState(enum.Enum):
    DISCONNECTED = "disconnected"  # no port (not configured, vanished, stopped)
    CONNECTING = "connecting"  # port open, handshake running
    READY = "ready"  # accepting commands
    ERROR = "error"  # firmware unresponsive or the stream broke; retrying
    SHUTDOWN = "shutdown"  # firmware halted (kill/thermal): needs a reset


class StateChanged(Event, frozen=True):
    state: LinkState
    message: str
