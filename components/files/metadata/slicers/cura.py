"""Ultimaker Cura (CuraEngine): Marlin-flavour header and Griffin header."""

from __future__ import annotations

import re

from gateway.gcode import CURA_LAYER_COUNT

from ..text import NUM, all_numbers, find_float, find_floats, find_int, find_string
from .base import SlicerParser

__all__ = ["CuraParser"]

_IDENT = re.compile(r"Cura_SteamEngine[ \t]+([^\r\n]+)")
_GRIFFIN_NAME = re.compile(r";GENERATOR\.NAME:\s*Cura_SteamEngine")
_GRIFFIN_VERSION = re.compile(r";GENERATOR\.VERSION:\s*([^\r\n]+)")

_MINZ = re.compile(r";MINZ:" + NUM)
_MAXZ = re.compile(r";MAXZ:" + NUM)
_LAYER_HEIGHT = re.compile(r";Layer\sheight:\s" + NUM)
_FILAMENT_USED = re.compile(r";Filament\sused:\s([^\r\n]*)")
_FILAMENT_WEIGHT = re.compile(r";Filament\sweight\s=\s\[([^\]\r\n]*)\]")
_FILAMENT_TYPE = re.compile(r";Filament\stype\s=\s([^\r\n]*)")
_FILAMENT_NAME = re.compile(r";Filament\sname\s=\s([^\r\n]*)")
_TIME = re.compile(r";TIME:" + NUM)
_M109 = re.compile(r"M109 S" + NUM)
_M190 = re.compile(r"M190 S" + NUM)
_M191 = re.compile(r"M191 S" + NUM)
_NOZZLE = re.compile(r";Nozzle\sdiameter\s=\s" + NUM)

# Griffin (UltiGCode successor) header keys.
_G_TIME = re.compile(r";PRINT\.TIME:" + NUM)
_G_MINZ = re.compile(r";PRINT\.SIZE\.MIN\.Z:" + NUM)
_G_MAXZ = re.compile(r";PRINT\.SIZE\.MAX\.Z:" + NUM)
_G_NOZZLE = re.compile(r";EXTRUDER_TRAIN\.0\.NOZZLE\.DIAMETER:" + NUM)
_G_EXTR_TEMP = re.compile(r";EXTRUDER_TRAIN\.0\.INITIAL_TEMPERATURE:" + NUM)
_G_BED_TEMP = re.compile(r";BUILD_PLATE\.INITIAL_TEMPERATURE:" + NUM)
_G_CHAMBER = re.compile(r";BUILD_VOLUME\.TEMPERATURE:" + NUM)


class CuraParser(SlicerParser):
    default_name = "Cura"

    @classmethod
    def identify(cls, header: str) -> tuple[str, str] | None:
        if _GRIFFIN_NAME.search(header):
            m = _GRIFFIN_VERSION.search(header)
            return "Cura", m.group(1).strip() if m else "?"
        m = _IDENT.search(header)
        if m:
            return "Cura", m.group(1).strip()
        return None

    def get_first_layer_height(self) -> float | None:
        value = find_float(_MINZ, self.head)
        return value if value is not None else find_float(_G_MINZ, self.head)

    def get_layer_height(self) -> float | None:
        self.layer_height = find_float(_LAYER_HEIGHT, self.head)
        return self.layer_height

    def get_object_height(self) -> float | None:
        value = find_float(_MAXZ, self.head)
        return value if value is not None else find_float(_G_MAXZ, self.head)

    def get_filament_total(self) -> float | None:
        m = _FILAMENT_USED.search(self.head)
        if m is None:
            return None
        metres = all_numbers(m.group(1))
        return round(sum(metres) * 1000, 6) if metres else None

    def get_filament_weight_total(self) -> float | None:
        weights = self.get_filament_weights()
        return round(sum(weights), 6) if weights else None

    def get_filament_weights(self) -> list[float] | None:
        m = _FILAMENT_WEIGHT.search(self.head)
        if m is None:
            return None
        return all_numbers(m.group(1)) or None

    def get_filament_type(self) -> str | None:
        return find_string(_FILAMENT_TYPE, self.head)

    def get_filament_name(self) -> str | None:
        return find_string(_FILAMENT_NAME, self.head)

    def get_estimated_time(self) -> float | None:
        times = find_floats(_TIME, self.head)
        if times:
            return max(times)
        return find_float(_G_TIME, self.head)

    def get_first_layer_extr_temp(self) -> float | None:
        value = find_float(_M109, self.head)
        return value if value is not None else find_float(_G_EXTR_TEMP, self.head)

    def get_first_layer_bed_temp(self) -> float | None:
        value = find_float(_M190, self.head)
        return value if value is not None else find_float(_G_BED_TEMP, self.head)

    def get_chamber_temp(self) -> float | None:
        value = find_float(_M191, self.head)
        return value if value is not None else find_float(_G_CHAMBER, self.head)

    def get_layer_count(self) -> int | None:
        return find_int(CURA_LAYER_COUNT, self.head)

    def get_nozzle_diameter(self) -> float | None:
        value = find_float(_NOZZLE, self.head)
        return value if value is not None else find_float(_G_NOZZLE, self.head)
