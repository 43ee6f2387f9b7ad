"""Klipper's `exclude_object` on the host: the objects of the file being printed, the
ones excluded, and the EXCLUDE_OBJECT* commands. The print stream (stream_filter.py)
drops the moves of an excluded object's blocks."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from components.printer.params import CommandError, Params

OBJECT = "exclude_object"


def initial_status() -> dict[str, Any]:
    return {"objects": [], "excluded_objects": [], "current_object": None}


class ExcludeObjects:
    def __init__(
        self,
        update: Callable[[str, Mapping[str, Any]], None],
        respond: Callable[[str], None],
    ) -> None:
        self.update = update
        self.respond = respond
        self.objects: list[dict[str, Any]] = []
        self.excluded: list[str] = []
        self.current: str | None = None

    @property
    def skipping(self) -> bool:
        """Inside an excluded object's block: its moves are not sent."""
        return self.current is not None and self.current in self.excluded

    def reset(self) -> None:
        self.objects, self.excluded, self.current = [], [], None
        self._publish()

    def _publish(self) -> None:
        self.update(OBJECT, {"objects": [dict(o) for o in self.objects],
                             "excluded_objects": list(self.excluded),
                             "current_object": self.current})

    def index_of(self, name: str) -> int | None:
        for index, obj in enumerate(self.objects):
            if obj["name"] == name:
                return index
        return None

    # -- commands (translated: they change host state and send nothing) --------------

    def define(self, params: Params, _: object = None) -> list[str]:
        if params.get_flag("RESET"):
            self.reset()
            return []
        name = params.get("NAME", "").upper()
        if not name:
            shown = (json.dumps(self.objects) if "JSON" in params
                     else " ".join(o["name"] for o in self.objects))
            self.respond(f"// Known objects: {shown}")
            return []
        obj: dict[str, Any] = {"name": name}
        try:
            if "CENTER" in params:
                obj["center"] = [float(v) for v in params["CENTER"].split(",")]
            if "POLYGON" in params:
                polygon = json.loads(params["POLYGON"])
                obj["polygon"] = [[float(x), float(y)] for x, y in polygon]
        except (ValueError, TypeError) as exc:
            raise params.error(f"malformed CENTER or POLYGON ({exc})") from None
        for key, value in params.items():
            if key not in ("NAME", "CENTER", "POLYGON"):
                obj[key.lower()] = value
        self.objects = sorted([o for o in self.objects if o["name"] != name] + [obj],
                              key=lambda o: str(o["name"]))
        self._publish()
        return []

    def start(self, params: Params, _: object = None) -> list[str]:
        name = params.get_str("NAME").upper()
        if self.index_of(name) is None:
            self.objects = sorted([*self.objects, {"name": name}],
                                  key=lambda o: str(o["name"]))
        self.current = name
        self._publish()
        return []

    def end(self, params: Params, _: object = None) -> list[str]:
        if self.current is None:
            self.respond("// EXCLUDE_OBJECT_END called, but no object is currently active")
            return []
        name = params.get("NAME")
        if name is not None and name.upper() != self.current:
            self.respond(f"// EXCLUDE_OBJECT_END NAME={name.upper()} does not match the "
                         f"current object NAME={self.current}")
        self.current = None
        self._publish()
        return []

    def exclude(self, params: Params, _: object = None) -> list[str]:
        name = params.get("NAME", "").upper()
        if params.get_flag("RESET"):
            if name:
                if name in self.excluded:
                    self.excluded.remove(name)
                self.respond(f"// Unexcluding object {name}")
            else:
                self.excluded = []
        elif name:
            self.exclude_name(name)
        elif params.get_flag("CURRENT"):
            if self.current is None:
                raise CommandError("There is no current object to cancel")
            self.exclude_name(self.current)
        else:
            self.respond(f"// Excluded objects: {' '.join(self.excluded)}")
        self._publish()
        return []

    def exclude_name(self, name: str) -> None:
        if name not in self.excluded:
            self.respond(f"// Excluding object {name}")
            self.excluded = sorted([*self.excluded, name])
        self._publish()
