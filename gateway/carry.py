"""What outlives a server generation.

`server.restart` builds a new server in the same process; the runner keeps the
listening socket. A component may hand the next generation a part that must not be torn
down and rebuilt — the printer's serial link and a running print (opening the port again
resets a USB board). It puts it here while stopping for a restart; the next generation
takes it while loading. Whatever nobody took is closed once the next generation has
started, and everything left is closed when the process stops."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)

Close = Callable[[], Awaitable[None]]


class CarryOver:
    def __init__(self) -> None:
        self._items: dict[str, tuple[Any, Close]] = {}

    def put(self, name: str, item: object, close: Close) -> None:
        """Keep `item` for the next generation; `close` ends it if nobody takes it."""
        self._items[name] = (item, close)

    def take(self, name: str) -> object | None:
        entry = self._items.pop(name, None)
        return None if entry is None else entry[0]

    def __contains__(self, name: str) -> bool:
        return name in self._items

    async def close(self) -> None:
        """End everything nobody took."""
        items, self._items = self._items, {}
        for name, (_, close) in items.items():
            try:
                await close()
            except Exception:
                log.exception("closing the carried-over %s failed", name)
