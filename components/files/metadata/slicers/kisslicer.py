"""KISSlicer: ``; key = value`` settings header, build summary footer."""

from __future__ import annotations

import re

from ..text import NUM, find_float, find_floats
from .base import SlicerParser

__all__ = ["KISSlicerParser"]

_IDENT = re.compile(r";\sKISSlicer")
_VERSION = re.compile(r";\sversion\s([^\r\n]+)")
_FIRST_LAYER = re.compile(r";\s+first_layer_thickness_mm\s=\s" + NUM)
_LAYER = re.compile(r";\s+max_layer_thickness_mm\s=\s" + NUM)
_END_LAYER_Z = re.compile(r";\sEND_LAYER_OBJECT\sz=" + NUM)
_EXT_USED = re.compile(r";\s+Ext #\d+\s+=\s+" + NUM + r"\s*mm")
_BUILD_MINUTES = re.compile(r";\sCalculated.*Build\sTime:\s" + NUM + r"\sminutes")
_FIRST_LAYER_C = re.compile(r";\sfirst_layer_C\s=\s" + NUM)
_BED_C = re.compile(r";\sbed_C\s=\s" + NUM)
_CHAMBER_C = re.compile(r";\schamber_C\s=\s" + NUM)
_NOZZLE = re.compile(r";\s+nozzle_dia(?:meter)?(?:_mm|_1)?\s=\s" + NUM)


class KISSlicerParser(SlicerParser):
    default_name = "KISSlicer"

    @classmethod
    def identify(cls, header: str) -> tuple[str, str] | None:
        if _IDENT.search(header) is None:
            return None
        m = _VERSION.search(header)
        version = m.group(1).strip().replace(" ", "-") if m else "?"
        return "KISSlicer", version

    def get_first_layer_height(self) -> float | None:
        return find_float(_FIRST_LAYER, self.head)

    def get_layer_height(self) -> float | None:
        self.layer_height = find_float(_LAYER, self.head)
        return self.layer_height

    def get_object_height(self) -> float | None:
        zs = find_floats(_END_LAYER_Z, self.tail)
        return max(zs) if zs else None

    def get_filament_total(self) -> float | None:
        used = find_floats(_EXT_USED, self.tail)
        return round(sum(used), 6) if used else None

    def get_estimated_time(self) -> float | None:
        minutes = find_float(_BUILD_MINUTES, self.tail)
        return None if minutes is None else round(minutes * 60, 2)

    def get_first_layer_extr_temp(self) -> float | None:
        return find_float(_FIRST_LAYER_C, self.head)

    def get_first_layer_bed_temp(self) -> float | None:
        return find_float(_BED_C, self.head)

    def get_chamber_temp(self) -> float | None:
        return find_float(_CHAMBER_C, self.head)

    def get_nozzle_diameter(self) -> float | None:
        return find_float(_NOZZLE, self.head)
