"""Filament used per spool, waiting to be reported to Spoolman. Pure bookkeeping: the
component samples the printer's extrusion counter and sends the batches."""

from __future__ import annotations

from typing import Any


class Usage:
    def __init__(self) -> None:
        self.pending: dict[int, float] = {}
        self._last: float | None = None

    def sample(self, extruded: float, spool_id: int | None) -> float:
        """Credit what was extruded since the last sample to `spool_id` (none: dropped,
        as nothing is tracked). A counter that went back (printer reconnected) restarts
        the count. Returns the mm credited."""
        last, self._last = self._last, extruded
        if last is None or extruded <= last:
            return 0.0
        delta = extruded - last
        if spool_id is not None:
            self.add(spool_id, delta)
        return delta

    def add(self, spool_id: int, mm: float) -> None:
        self.pending[spool_id] = self.pending.get(spool_id, 0.0) + mm

    def take(self) -> dict[int, float]:
        batch, self.pending = self.pending, {}
        return batch

    def drop(self, spool_id: int) -> None:
        self.pending.pop(spool_id, None)

    def report(self) -> list[dict[str, Any]]:
        return [{"spool_id": sid, "filament_used": mm} for sid, mm in self.pending.items()]

    def dump(self) -> dict[str, float]:
        return {str(k): v for k, v in self.pending.items()}

    def load(self, data: Any) -> None:
        if not isinstance(data, dict):
            return
        for key, value in data.items():
            if str(key).isdigit() and isinstance(value, (int, float)) and value > 0:
                self.add(int(key), float(value))
