"""Per-job summaries of sensor values for the job history (Moonraker's history fields):
pure trackers fed each measurement while a job runs.

Strategies: basic (the last value), accumulate (the sum), delta (last - first; with
exclude_paused the sum of the deltas outside pauses), average, maximum, minimum, collect
(distinct values in order, at most 100). `init_tracker` starts from the measurement last
seen before the job; `exclude_paused` ignores measurements taken while paused.
"""

from __future__ import annotations

from components.sensor.config import HistoryField

COLLECT_LIMIT = 100


class FieldTracker:
    def __init__(self, field: HistoryField, provider: str) -> None:
        self.field = field
        self.provider = provider
        self.reset(None)

    def reset(self, last: float | None) -> None:
        self._value: float | None = None
        self._count = 0
        self._reference: float | None = None
        self._items: list[object] = []
        if self.field.init_tracker and last is not None:
            self.update(last)

    def pause_break(self) -> None:
        """A pause began: with exclude_paused, delta restarts from the next value."""
        if self.field.exclude_paused:
            self._reference = None

    def update(self, value: float, paused: bool = False) -> None:
        if paused and self.field.exclude_paused:
            self._reference = None
            return
        strategy = self.field.strategy
        self._count += 1
        if strategy == "basic":
            self._value = value
        elif strategy == "accumulate":
            self._value = (self._value or 0.0) + value
        elif strategy == "delta":
            if self._reference is not None:
                self._value = (self._value or 0.0) + value - self._reference
            elif self._value is None:
                self._value = 0.0
            self._reference = value
        elif strategy == "average":
            previous = self._value or 0.0
            self._value = previous + (value - previous) / self._count
        elif strategy == "maximum":
            self._value = value if self._value is None else max(self._value, value)
        elif strategy == "minimum":
            self._value = value if self._value is None else min(self._value, value)
        elif strategy == "collect" and value not in self._items:
            self._items.append(value)
            del self._items[:-COLLECT_LIMIT]

    def result(self) -> object:
        if self.field.strategy == "collect":
            return list(self._items)
        value = self._value
        if value is not None and self.field.precision is not None:
            value = round(value, self.field.precision)
        return value

    def auxiliary(self) -> dict[str, object]:
        """The job's `auxiliary_data` entry."""
        return {"provider": self.provider, "name": self.field.field,
                "value": self.result(), "description": self.field.description,
                "units": self.field.units}

    def info(self) -> dict[str, object]:
        """The sensor API's `history_fields` entry."""
        f = self.field
        return {"field": f.field, "provider": self.provider, "description": f.description,
                "strategy": f.strategy, "units": f.units, "init_tracker": f.init_tracker,
                "exclude_paused": f.exclude_paused, "report_total": f.report_total,
                "report_maximum": f.report_maximum, "precision": f.precision,
                "parameter": f.parameter}
