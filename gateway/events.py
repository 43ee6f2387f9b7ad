"""The server's event bus: components learn of changes here instead of reaching in.

An event is a class (a frozen msgspec Struct deriving from `BusEvent`); its fields are
its payload. Listeners subscribe to the class and receive the instance:

    class JobStarted(BusEvent):
        filename: str

    bus.subscribe(JobStarted, self._on_started)     # def _on_started(self, e: JobStarted)
    bus.emit(JobStarted("cube.gcode"))

Delivery is by exact class (a subclass is its own event), in subscription order. A
listener may be a coroutine function: it is scheduled on the loop, and its failure is
logged like a failing plain listener's; neither stops the other listeners.

Each component publishes the events it emits in its `api.py`; the server's own are
below.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, TypeVar

import msgspec

from gateway.tasks import Background

if TYPE_CHECKING:
    from gateway.request import Request
    from gateway.transports.connection import Connection

log = logging.getLogger(__name__)


class BusEvent(msgspec.Struct, frozen=True):
    """Base of every event on the bus (not the firmware protocol's events, which the
    printer component turns into these)."""


E = TypeVar("E", bound=BusEvent)
# what a listener returns is ignored, unless it is awaitable (then it is scheduled)
Listener = Callable[[E], object]


class EventBus:
    def __init__(self) -> None:
        self._listeners: dict[type[BusEvent], list[Callable[[BusEvent], object]]] = {}
        self._tasks = Background("async listener", logger=log)

    def subscribe(self, kind: type[E], listener: Listener[E]) -> Callable[[], None]:
        """Call `listener(event)` for every emitted `kind`; returns the unsubscribe."""
        # stored as a listener of BusEvent: emit() only ever passes it a `kind`
        stored: Callable[[BusEvent], object] = listener  # type: ignore[assignment]
        self._listeners.setdefault(kind, []).append(stored)

        def unsubscribe() -> None:
            listeners = self._listeners.get(kind, [])
            if stored in listeners:
                listeners.remove(stored)

        return unsubscribe

    def emit(self, event: BusEvent) -> None:
        """Call every listener; a failing listener is logged and never stops the others."""
        listeners = self._listeners.get(type(event))
        if not listeners:
            return
        for listener in list(listeners):
            try:
                result = listener(event)
            except Exception:
                log.exception("listener for %s failed", type(event).__name__)
                continue
            if inspect.isawaitable(result):
                self._tasks.spawn(result)


# -- the server's own events --------------------------------------------------------


class ServerStarted(BusEvent, frozen=True):
    """Every component has started and the server is listening (on `port`)."""

    port: int = 0


class WebsocketConnected(BusEvent, frozen=True):
    connection: Connection
    headers: Mapping[str, str]


class WebsocketDisconnected(BusEvent, frozen=True):
    connection: Connection


class WebsocketIdentified(BusEvent, frozen=True):
    """server.connection.identify succeeded; `request` carries the client's arguments
    (the access component reads its credentials)."""

    connection: Connection
    request: Request
