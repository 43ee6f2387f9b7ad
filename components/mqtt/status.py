"""Printer status to MQTT, as Moonraker publishes it.

Whole: `{instance}/klipper/status` with `{"eventtime": t, "status": {obj: {field: v}}}`.
Split (`publish_split_status`): one retained topic per field,
`{instance}/klipper/state/{object}/{field}` with `{"eventtime": t, "value": v}`.

Without `status_interval` every change is published as the printer pushes it (its
subscriptions batch a burst of changes into one); with it, changes are merged and the
merged set is published once per interval.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

Publish = Callable[[str, Any, bool], None]  # topic, payload, retain


class StatusPublisher:
    def __init__(self, instance: str, publish: Publish, *, split: bool,
                 interval: float | None) -> None:
        self.status_topic = f"{instance}/klipper/status"
        self.state_prefix = f"{instance}/klipper/state"
        self._publish = publish
        self.split = split
        self.interval = interval or None
        self._cache: dict[str, dict[str, object]] = {}
        self._cache_time = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self.published = 0

    def update(self, status: Mapping[str, Mapping[str, object]], eventtime: float) -> None:
        if not status:
            return
        if self.interval is None:
            self._send(status, eventtime)
            return
        for name, fields in status.items():
            self._cache.setdefault(name, {}).update(fields)
        self._cache_time = eventtime
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.interval, self._tick)

    def flush(self) -> None:
        """Publish what is cached now (the printer went away: say the last we knew)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._cache:
            cache, self._cache = self._cache, {}
            self._send(cache, self._cache_time)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._cache = {}

    def _tick(self) -> None:
        self._timer = None
        if self._cache:
            cache, self._cache = self._cache, {}
            self._send(cache, self._cache_time)

    def _send(self, status: Mapping[str, Mapping[str, object]], eventtime: float) -> None:
        self.published += 1
        if not self.split:
            self._publish(self.status_topic, {"eventtime": eventtime, "status": status}, False)
            return
        for name, fields in status.items():
            for key, value in fields.items():
                self._publish(f"{self.state_prefix}/{name}/{key}",
                              {"eventtime": eventtime, "value": value}, True)
