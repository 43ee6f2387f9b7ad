"""Raise3D ideaMaker: ``;Key: value`` header, ``;Print Time:`` footer."""

from __future__ import annotations

import math
import re

from ..text import NUM, find_float, find_floats, find_string
from .base import SlicerParser

__all__ = ["IdeaMakerParser"]

_IDENT = re.compile(r"\sideaMaker\s?([0-9][^,\s]*)")
_FIRST_LAYER = re.compile(r";LAYER:0\s*.*\s*;HEIGHT:" + NUM)
_SECOND_LAYER = re.compile(r";LAYER:1\s*.*\s*;HEIGHT:" + NUM)
_BOUNDING_BOX = re.compile(r";Bounding Box:([^\r\n]*)")
_MATERIAL_USED = re.compile(r";Material.\d\sUsed:\s+" + NUM)
_FIL_TYPE = re.compile(r";Filament\sType\s.\d:\s([^\r\n]*)")
_FIL_TYPE_ALT = re.compile(r";Filament\stype\s=\s([^\r\n]*)")
_FIL_NAME = re.compile(r";Filament\sName\s.\d:\s([^\r\n]*)")
_FIL_NAME_ALT = re.compile(r";Filament\sname\s=\s([^\r\n]*)")
_FIL_DIAMETER = re.compile(r";Filament\sDiameter\s.\d:\s+" + NUM)
_FIL_DENSITY = re.compile(r";Filament\sDensity\s.\d:\s+" + NUM)
_PRINT_TIME = re.compile(r";Print\sTime:\s" + NUM)
_M109 = re.compile(r"M109 T0 S" + NUM)
_M190 = re.compile(r"M190 S" + NUM)
_M191 = re.compile(r"M191 S" + NUM)
_DIMENSION = re.compile(r";Dimension:(?:\s\d+\.\d+){3}\s" + NUM)


class IdeaMakerParser(SlicerParser):
    default_name = "IdeaMaker"

    @classmethod
    def identify(cls, header: str) -> tuple[str, str] | None:
        m = _IDENT.search(header)
        return ("IdeaMaker", m.group(1)) if m else None

    def get_first_layer_height(self) -> float | None:
        return find_float(_FIRST_LAYER, self.head)

    def get_layer_height(self) -> float | None:
        self.layer_height = find_float(_SECOND_LAYER, self.head)
        return self.layer_height

    def get_object_height(self) -> float | None:
        # ";Bounding Box: minx maxx miny maxy minz maxz" -> the last value.
        m = _BOUNDING_BOX.search(self.head)
        if m is None:
            return None
        parts = m.group(1).split()
        return float(parts[-1]) if parts else None

    def get_filament_total(self) -> float | None:
        used = find_floats(_MATERIAL_USED, self.tail)
        return round(sum(used), 6) if used else None

    def get_filament_type(self) -> str | None:
        return find_string(_FIL_TYPE, self.head) or find_string(_FIL_TYPE_ALT, self.head)

    def get_filament_name(self) -> str | None:
        return find_string(_FIL_NAME, self.head) or find_string(_FIL_NAME_ALT, self.head)

    def get_filament_weight_total(self) -> float | None:
        lengths = find_floats(_MATERIAL_USED, self.tail)
        diameters = find_floats(_FIL_DIAMETER, self.head)
        densities = find_floats(_FIL_DENSITY, self.head)
        if not lengths or not (len(lengths) == len(diameters) == len(densities)):
            return None
        # volume [mm^3] = cross-section [mm^2] * length [mm]; the density is
        # normally g/cm^3 (1.24) but accept kg/m^3 (1240) as well.
        grams = sum(
            math.pi / 4 * d * d * length * rho / (1000 if rho < 100 else 1_000_000)
            for length, d, rho in zip(lengths, diameters, densities, strict=True)
        )
        return round(grams, 6)

    def get_estimated_time(self) -> float | None:
        return find_float(_PRINT_TIME, self.tail)

    def get_first_layer_extr_temp(self) -> float | None:
        return find_float(_M109, self.head)

    def get_first_layer_bed_temp(self) -> float | None:
        return find_float(_M190, self.head)

    def get_chamber_temp(self) -> float | None:
        return find_float(_M191, self.head)

    def get_nozzle_diameter(self) -> float | None:
        return find_float(_DIMENSION, self.head)
