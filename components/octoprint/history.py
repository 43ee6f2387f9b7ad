"""Temperature samples in OctoPrint's shape (`{"time", "tool0": {"actual", "target"}}`),
one a second while the printer reports temperatures: for `?history=true` and the push
channel's `temps`."""

from __future__ import annotations

import collections
import time

from components.octoprint.state import Snapshot, tool_key

SIZE = 300


class TemperatureHistory:
    def __init__(self, size: int = SIZE) -> None:
        self.samples: collections.deque[dict[str, object]] = collections.deque(maxlen=size)

    def sample(self, snap: Snapshot) -> dict[str, object] | None:
        if not snap.operational or not snap.heaters:
            return None
        entry: dict[str, object] = {"time": int(time.time())}
        for name, (actual, target) in snap.heaters.items():
            key = tool_key(name)
            if key is not None:
                entry[key] = {"actual": round(actual, 2), "target": float(target)}
        self.samples.append(entry)
        return entry

    def recent(self, limit: int | None = None, only: str | None = None) -> list[dict[str, object]]:
        """Newest first, as OctoPrint lists them; `only` = "tool" or "bed"."""
        items = list(self.samples)
        if limit is not None:
            items = items[-limit:] if limit > 0 else []
        items.reverse()
        if only is None:
            return items
        return [{k: v for k, v in s.items()
                 if k == "time" or (k == "bed") == (only == "bed")} for s in items]
