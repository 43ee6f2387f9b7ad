"""printer.objects.subscribe: per-connection subscriptions and the batched push.

A change schedules one push a short moment later (BATCH_DELAY), so a burst of changes
from one serial read leaves as one notification. Clients with the same subscription
share one encoded frame: a 40-client fan-out encodes once (frontends all subscribe to
every object).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from components.printer.status import Fields, StatusModel
from gateway.transports.connection import Connection
from gateway.transports.jsonrpc import notification_frame

# short enough for ≤50 ms change-to-client latency, long enough to batch one serial read
BATCH_DELAY = 0.015
Subscription = dict[str, frozenset[str] | None]


def normalise(request: Mapping[str, Iterable[str] | None]) -> Subscription:
    return {name: None if fields is None else frozenset(fields) for name, fields in request.items()}


def _key(sub: Subscription) -> tuple[tuple[str, frozenset[str] | None], ...]:
    return tuple(sorted(sub.items(), key=lambda item: item[0]))


def filter_diff(diff: Mapping[str, Fields], sub: Subscription) -> dict[str, Fields]:
    out: dict[str, Fields] = {}
    for name, fields in diff.items():
        if name not in sub:
            continue
        wanted = sub[name]
        if wanted is None:
            out[name] = fields
            continue
        picked = {k: v for k, v in fields.items() if k in wanted}
        if picked:
            out[name] = picked
    return out


class SubscriptionHub:
    def __init__(
        self, model: StatusModel, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.model = model
        self.clock = clock
        self._subs: dict[int, tuple[Connection, Subscription]] = {}
        self._handle: asyncio.Handle | None = None
        self.last_eventtime = 0.0

    def eventtime(self) -> float:
        # strictly increasing: Fluidd only flushes when eventtime advances
        now = max(self.clock(), self.last_eventtime + 1e-6)
        self.last_eventtime = now
        return now

    def subscribe(self, conn: Connection, request: Mapping[str, Iterable[str] | None]) -> None:
        self._subs[conn.id] = (conn, normalise(request))

    def unsubscribe(self, conn: Connection) -> None:
        self._subs.pop(conn.id, None)

    @property
    def count(self) -> int:
        return len(self._subs)

    def changed(self) -> None:
        """Call after model updates; schedules one push."""
        if self._handle is None:
            self._handle = asyncio.get_running_loop().call_later(BATCH_DELAY, self.flush)

    def flush(self) -> None:
        self._handle = None
        diff = self.model.take_changes()
        if not diff or not self._subs:
            return
        eventtime = self.eventtime()
        frames: dict[Any, bytes | None] = {}
        for conn, sub in list(self._subs.values()):
            if not conn.authenticated:
                # the socket lost its trust (a bad token, a revoked user): it gets no more
                # printer state, and subscribes again once it authenticates
                del self._subs[conn.id]
                continue
            key = _key(sub)
            frame = frames.get(key, b"")
            if frame == b"":
                picked = filter_diff(diff, sub)
                frame = notification_frame("notify_status_update", [picked, eventtime]) \
                    if picked else None
                frames[key] = frame
            if frame is not None:
                conn.send_bytes(frame)

    def close(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self._subs.clear()
