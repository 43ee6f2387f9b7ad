"""Parser base class and the fall-back parser for unidentified files."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import ClassVar

from ..text import NUM, find_float, find_floats, gcode_end_byte, gcode_start_byte

__all__ = ["FIELDS", "GcodeSource", "SlicerParser", "UnknownParser"]

log = logging.getLogger(__name__)

# Parsed fields in the order Moonraker emits them.
FIELDS: tuple[str, ...] = (
    "gcode_start_byte",
    "gcode_end_byte",
    "layer_count",
    "object_height",
    "estimated_time",
    "nozzle_diameter",
    "layer_height",
    "first_layer_height",
    "first_layer_extr_temp",
    "first_layer_bed_temp",
    "chamber_temp",
    "filament_name",
    "filament_type",
    "filament_colors",
    "filament_change_count",
    "extruder_colors",
    "filament_temps",
    "referenced_tools",
    "mmu_print",
    "filament_total",
    "filament_weight_total",
    "filament_weights",
    "printer_vendor",
    "printer_model",
    "printer_variant",
    "profile_version",
)

FieldValue = int | float | str | list[str] | list[int] | list[float]


@dataclass(frozen=True, slots=True)
class GcodeSource:
    """Decoded head/tail windows of a G-code file.

    ``tail`` is the same text as ``head`` when the whole file was read.
    """

    head: str
    tail: str
    head_bytes: bytes
    tail_bytes: bytes
    tail_offset: int
    size: int

    @property
    def whole(self) -> bool:
        return self.tail_bytes is self.head_bytes


_G1_Z = re.compile(r"G1\sZ" + NUM + r"\s")
_M109 = re.compile(r"M109 S" + NUM)
_M190 = re.compile(r"M190 S" + NUM)
_M191 = re.compile(r"M191 S" + NUM)


class SlicerParser:
    """Base parser: every field is unknown except the G-code byte range.

    Subclasses override ``get_<field>`` methods; ``run`` collects the
    non-None values in Moonraker's order.  A failing getter is logged and
    skipped, never raised.
    """

    default_name: ClassVar[str] = "Unknown"

    def __init__(self, src: GcodeSource, name: str | None = None, version: str = "?") -> None:
        self.src = src
        self.name = name or self.default_name
        self.version = version
        self.layer_height: float | None = None

    @classmethod
    def identify(cls, header: str) -> tuple[str, str] | None:
        """Return (slicer name, version) if ``header`` belongs to this slicer."""
        return None

    @property
    def head(self) -> str:
        return self.src.head

    @property
    def tail(self) -> str:
        return self.src.tail

    def run(self) -> dict[str, FieldValue]:
        out: dict[str, FieldValue] = {}
        for field in FIELDS:
            getter = getattr(self, "get_" + field, None)
            if getter is None:
                continue
            try:
                value = getter()
            except Exception:  # a malformed file must never break extraction
                log.debug("metadata field %s failed for %s", field, self.name, exc_info=True)
                continue
            if value is not None:
                out[field] = value
        return out

    # --- fields every slicer shares -------------------------------------------------
    def get_gcode_start_byte(self) -> int | None:
        return gcode_start_byte(self.src.head_bytes)

    def get_gcode_end_byte(self) -> int | None:
        return gcode_end_byte(self.src.tail_bytes, self.src.tail_offset)


class UnknownParser(SlicerParser):
    """Best-effort values from plain G-code for files no parser claims."""

    def get_first_layer_height(self) -> float | None:
        zs = find_floats(_G1_Z, self.head)
        return min(zs) if zs else None

    def get_object_height(self) -> float | None:
        zs = find_floats(_G1_Z, self.tail)
        return max(zs) if zs else None

    def get_first_layer_extr_temp(self) -> float | None:
        return find_float(_M109, self.head)

    def get_first_layer_bed_temp(self) -> float | None:
        return find_float(_M190, self.head)

    def get_chamber_temp(self) -> float | None:
        return find_float(_M191, self.head)
