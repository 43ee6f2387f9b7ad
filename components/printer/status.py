"""One model of printer state: Klipper-shaped status objects, with the fields changed since
the last push collected for subscribers.

Everything that changes printer state writes here; nothing else keeps a second copy.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

Fields = dict[str, Any]
# what a caller asks for: object name -> list of fields, or None for every field
ObjectQuery = Mapping[str, Iterable[str] | None]


class StatusModel:
    def __init__(self) -> None:
        self._objects: dict[str, Fields] = {}
        self._changed: dict[str, Fields] = {}

    # -- writing ---------------------------------------------------------------------

    def add_object(self, name: str, fields: Fields) -> None:
        self._objects[name] = dict(fields)
        self._changed[name] = dict(fields)

    def remove_object(self, name: str) -> None:
        self._objects.pop(name, None)
        self._changed.pop(name, None)

    def update(self, name: str, values: Mapping[str, Any]) -> bool:
        """Set fields of object `name`; only real changes are recorded for the next push.

        Values must be JSON-like; lists and dicts are compared by value, so a caller may
        pass a fresh list each time without causing a push."""
        current = self._objects.get(name)
        if current is None:
            raise KeyError(f"unknown printer object {name}")
        changed = None
        for key, value in values.items():
            if key in current and current[key] == value:
                continue
            current[key] = value
            if changed is None:
                changed = self._changed.setdefault(name, {})
            changed[key] = value
        return changed is not None

    def set(self, name: str, key: str, value: Any) -> bool:
        return self.update(name, {key: value})

    # -- reading ----------------------------------------------------------------------

    def get(self, name: str, key: str, default: Any = None) -> Any:
        return self._objects.get(name, {}).get(key, default)

    def object(self, name: str) -> Fields:
        """A copy of one object's fields."""
        return copy.deepcopy(self._objects[name])

    def names(self) -> list[str]:
        return list(self._objects)

    def has(self, name: str) -> bool:
        return name in self._objects

    def query(self, request: ObjectQuery) -> dict[str, Fields]:
        """Current values of the requested objects; unknown objects and fields are left out,
        as Klipper does."""
        status: dict[str, Fields] = {}
        for name, wanted in request.items():
            fields = self._objects.get(name)
            if fields is None:
                continue
            if wanted is None:
                status[name] = copy.deepcopy(fields)
            else:
                status[name] = {k: copy.deepcopy(fields[k]) for k in wanted if k in fields}
        return status

    def take_changes(self) -> dict[str, Fields]:
        """The fields changed since the last call (and forget them)."""
        changed = self._changed
        self._changed = {}
        return changed

    @property
    def has_changes(self) -> bool:
        return bool(self._changed)
