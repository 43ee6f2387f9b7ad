"""Helpers for driving MarlinProtocol with literal firmware text."""

from __future__ import annotations

from typing import Any, TypeVar

from gateway.hostlink.protocol import (
    CommandAcknowledged,
    Event,
    LineReceived,
    LineSent,
    MarlinProtocol,
    ResendRequested,
)

E = TypeVar("E", bound=Event)


def make(**kw: Any) -> MarlinProtocol:
    """A protocol past the handshake: numbering starts at 1, nothing in flight."""
    return MarlinProtocol(**kw)


def firmware(proto: MarlinProtocol, *lines: str) -> list[Event]:
    """Feed literal firmware lines; return the events, minus raw-line echoes."""
    proto.feed("".join(line + "\n" for line in lines).encode())
    return [e for e in proto.events() if not isinstance(e, LineReceived | LineSent)]


def wire(proto: MarlinProtocol) -> list[str]:
    """Lines the protocol wants written now, without newlines."""
    data = proto.data_to_send()
    return data.decode().splitlines()


def submit_all(proto: MarlinProtocol, *commands: str) -> list[str]:
    """Submit as many as flow control allows; return those accepted."""
    accepted = []
    for cmd in commands:
        if not proto.submit(cmd, owner=cmd):
            break
        accepted.append(cmd)
    return accepted


def of(events: list[Event], kind: type[E]) -> list[E]:
    return [e for e in events if isinstance(e, kind)]


def acked(events: list[Event]) -> list[str]:
    return [e.command for e in of(events, CommandAcknowledged)]


def resends(events: list[Event]) -> list[tuple[int, bool]]:
    return [(e.line, e.ignored) for e in of(events, ResendRequested)]


def advanced(proto: MarlinProtocol, n: int = 1) -> None:
    """Teach the protocol the firmware has ADVANCED_OK (as the handshake would)."""
    proto.submit("M110 N0")
    proto.data_to_send()
    firmware(proto, f"ok N{n} P15 B3")
