"""Simplify3D 4.x and 5.x: ``;   key,value`` settings header, build summary footer."""

from __future__ import annotations

import re

from ..text import NUM, find_float, find_floats, find_string, parse_duration, to_float
from .base import SlicerParser

__all__ = ["Simplify3DParser"]

_IDENT = re.compile(r"Simplify3D\(R\)\sVersion\s([^\r\n]+)")
_G1_Z = re.compile(r"G1\sZ" + NUM + r"\s")
_LAYER_HEIGHT = re.compile(r";\s+layerHeight," + NUM)
_FILAMENT_LEN = re.compile(r";\s+(?:Filament\slength|Material\sLength):\s" + NUM + r"\smm")
_FILAMENT_WEIGHT = re.compile(r";\s+(?:Plastic\sweight|Material\sWeight):\s" + NUM + r"\sg")
_MATERIAL_NAME = re.compile(r";\s+printMaterial,([^\r\n]*)")
_MATERIAL_TYPE = re.compile(r";\s+makerBotModelMaterial,([^\r\n]*)")
_BUILD_TIME = re.compile(r";\s+Build [tT]ime:([^\r\n]*)")
_NOZZLE = re.compile(r";\s+(?:extruderDiameter|nozzleDiameter)," + NUM)
_TEMP_NAMES = re.compile(r";\s+temperatureName,([^\r\n]*)")
_TEMP_VALUES = re.compile(r";\s+temperatureSetpointTemperatures,([^\r\n]*)")
# v5 lists each heater as a group of lines.
_V5_CONTROLLER = re.compile(
    r";\s+temperatureController,[^\r\n]*\r?\n"
    r"(?:;[^\r\n]*\r?\n)*?"
    r";\s+temperatureType,(\w+)[^\r\n]*\r?\n"
    r"(?:;[^\r\n]*\r?\n)*?"
    r";\s+temperatureSetpoints,\d+\|" + NUM
)


class Simplify3DParser(SlicerParser):
    default_name = "Simplify3D"

    @classmethod
    def identify(cls, header: str) -> tuple[str, str] | None:
        m = _IDENT.search(header)
        return ("Simplify3D", m.group(1).strip()) if m else None

    @property
    def is_v5(self) -> bool:
        return self.version.startswith("5")

    def get_first_layer_height(self) -> float | None:
        zs = find_floats(_G1_Z, self.head)
        return min(zs) if zs else None

    def get_layer_height(self) -> float | None:
        self.layer_height = find_float(_LAYER_HEIGHT, self.head)
        return self.layer_height

    def get_object_height(self) -> float | None:
        zs = find_floats(_G1_Z, self.tail)
        return max(zs) if zs else None

    def get_filament_total(self) -> float | None:
        return find_float(_FILAMENT_LEN, self.tail)

    def get_filament_weight_total(self) -> float | None:
        return find_float(_FILAMENT_WEIGHT, self.tail)

    def get_filament_name(self) -> str | None:
        return find_string(_MATERIAL_NAME, self.head)

    def get_filament_type(self) -> str | None:
        return find_string(_MATERIAL_TYPE, self.tail) or find_string(_MATERIAL_TYPE, self.head)

    def get_estimated_time(self) -> int | None:
        m = _BUILD_TIME.search(self.tail)
        return parse_duration(m.group(1)) if m else None

    def _v4_temps(self) -> list[tuple[str, float | None]]:
        names = _TEMP_NAMES.search(self.head)
        values = _TEMP_VALUES.search(self.head)
        if names is None or values is None:
            return []
        return [
            (n.strip(), to_float(v.strip()))
            for n, v in zip(names.group(1).split(","), values.group(1).split(","), strict=False)
        ]

    def _v5_temp(self, heater_type: str) -> float | None:
        for m in _V5_CONTROLLER.finditer(self.head):
            if m.group(1) == heater_type:
                return to_float(m.group(2))
        return None

    def get_first_layer_extr_temp(self) -> float | None:
        if self.is_v5:
            return self._v5_temp("extruder")
        for name, temp in self._v4_temps():
            lowered = name.lower()
            if "bed" not in lowered and "chamber" not in lowered:
                return temp
        return None

    def get_first_layer_bed_temp(self) -> float | None:
        if self.is_v5:
            return self._v5_temp("platform")
        for name, temp in self._v4_temps():
            if "bed" in name.lower():
                return temp
        return None

    def get_nozzle_diameter(self) -> float | None:
        return find_float(_NOZZLE, self.head)
