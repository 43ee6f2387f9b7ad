"""G-code as slicers write it, shared by the files component (metadata) and the printer
(the job being printed). The firmware's replies are another language: gateway/hostlink.

Layer-change markers: feed each line; a returned marker tells what the slicer announced
(``print_stats.info.current_layer``).  ``layer`` is 1-based when
known; ``total`` is the layer count when the marker carries it; a marker
with neither (PrusaSlicer ``;LAYER_CHANGE``) means "next layer".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["CURA_LAYER_COUNT", "LayerMarker", "parse_layer_marker"]


@dataclass(frozen=True, slots=True)
class LayerMarker:
    layer: int | None = None  # 1-based
    total: int | None = None
    z: float | None = None


_CURA_LAYER = re.compile(r";LAYER:(-?\d+)")
# Cura announces the count once in its header (the metadata reads it there too)
CURA_LAYER_COUNT = re.compile(r";LAYER_COUNT:(\d+)")
_BAMBU_NUM = re.compile(r"; layer num/total_layer_count: (\d+)/(\d+)")
_KLIPPER = re.compile(r"SET_PRINT_STATS_INFO\b(.*)", re.IGNORECASE)
_KLIPPER_CUR = re.compile(r"CURRENT_LAYER=(\d+)", re.IGNORECASE)
_KLIPPER_TOT = re.compile(r"TOTAL_LAYER=(\d+)", re.IGNORECASE)
_S3D = re.compile(r"; layer (\d+), Z = ([0-9.]+)")
_Z_COMMENT = re.compile(r";\s?(?:Z:|Z_HEIGHT: )([0-9.]+)")


def parse_layer_marker(line: str) -> LayerMarker | None:
    """Return the layer information announced by ``line``, if any."""
    s = line.strip()
    if not s:
        return None
    if s[0] != ";":
        m = _KLIPPER.match(s)
        if m is None:
            return None
        cur = _KLIPPER_CUR.search(m.group(1))
        tot = _KLIPPER_TOT.search(m.group(1))
        if cur is None and tot is None:
            return None
        return LayerMarker(
            layer=int(cur.group(1)) if cur else None, total=int(tot.group(1)) if tot else None
        )
    if s in (";LAYER_CHANGE", "; CHANGE_LAYER"):
        return LayerMarker()
    m = _CURA_LAYER.fullmatch(s)
    if m:
        index = int(m.group(1))
        return LayerMarker(layer=index + 1) if index >= 0 else None
    m = CURA_LAYER_COUNT.fullmatch(s)
    if m:
        return LayerMarker(total=int(m.group(1)))
    m = _BAMBU_NUM.fullmatch(s)
    if m:
        return LayerMarker(layer=int(m.group(1)), total=int(m.group(2)))
    m = _S3D.match(s)
    if m:
        return LayerMarker(layer=int(m.group(1)), z=float(m.group(2)))
    m = _Z_COMMENT.fullmatch(s)
    if m:
        try:
            return LayerMarker(z=float(m.group(1)))
        except ValueError:
            return None
    return None
