"""Object labels of an uploaded G-code file → Klipper's EXCLUDE_OBJECT markers
(`[file_manager] enable_object_processing`, as Moonraker runs its preprocessor).

The slicers' own labels are read:
* PrusaSlicer/SuperSlicer: `; printing object NAME` … `; stop printing object NAME`,
  and the outlines of `; objects_info = {"objects": [{"name", "polygon"}]}` (2.6+);
* OrcaSlicer/BambuStudio: `; start printing object, unique label id: N` … `; stop …`;
* Cura: `;MESH:NAME` … (the next `;MESH:` or `;MESH:NONMESH`);
* Marlin's `M486 S<n>` (`M486 A<name>` names it, `M486 S-1` ends it).

The file gets `EXCLUDE_OBJECT_DEFINE NAME= CENTER= POLYGON=` lines before its first
command (the polygon from the slicer's data, else the convex hull of the object's
extrusions) and `EXCLUDE_OBJECT_START/END` around each object's blocks. Names keep
letters, digits, `-` and `_` (the frontends send `EXCLUDE_OBJECT NAME=<name>` unquoted).
A file that already has EXCLUDE_OBJECT_DEFINE, or no labels, is left as it is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

_PRUSA_START = re.compile(r"^;\s*printing object\s+(.+?)\s*$")
_PRUSA_STOP = re.compile(r"^;\s*stop printing object\s+(.+?)\s*$")
_ORCA_START = re.compile(r"^;\s*start printing object, unique label id:\s*(\d+)")
_ORCA_STOP = re.compile(r"^;\s*stop printing object, unique label id:\s*(\d+)")
_CURA_MESH = re.compile(r"^;MESH:(.+?)\s*$")
_M486 = re.compile(r"^M486\s+([SAT])\s*(.*?)\s*(?:;.*)?$", re.IGNORECASE)
_OBJECTS_INFO = re.compile(r"^;\s*objects_info\s*=\s*(\{.*\})\s*$")
_WORD = re.compile(r"([XYEG])(-?\d*\.?\d+)", re.IGNORECASE)
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
PROCESSOR = "preprocess_cancellation"


def safe_name(raw: str) -> str:
    return _UNSAFE.sub("_", raw.strip().strip('"')).strip("_").upper() or "OBJECT"


@dataclass
class _Object:
    name: str
    points: list[tuple[float, float]] = field(default_factory=list)
    polygon: list[list[float]] | None = None


@dataclass
class _Scan:
    objects: dict[str, _Object] = field(default_factory=dict)
    m486_names: dict[str, str] = field(default_factory=dict)
    processed: bool = False


def _label(line: str, m486_names: dict[str, str], current: str | None) -> tuple[str, str]:
    """("start", name) | ("stop", name) | ("", "") for one line."""
    if line.startswith(";"):
        for pattern, kind in ((_PRUSA_STOP, "stop"), (_PRUSA_START, "start"),
                              (_ORCA_STOP, "stop"), (_ORCA_START, "start")):
            m = pattern.match(line)
            if m:
                raw = m.group(1)
                return kind, safe_name(f"id_{raw}" if pattern in (_ORCA_START, _ORCA_STOP)
                                       else raw)
        m = _CURA_MESH.match(line)
        if m:
            raw = m.group(1)
            return ("stop", current or "") if raw == "NONMESH" else ("start", safe_name(raw))
        return "", ""
    m = _M486.match(line)
    if m and m.group(1).upper() == "S":
        number = m.group(2)
        if number.startswith("-"):
            return "stop", current or ""
        return "start", m486_names.get(number, safe_name(f"object_{number}"))
    return "", ""


def _lines(path: Path) -> Iterator[str]:
    with open(path, encoding="utf-8", errors="surrogateescape", newline="") as f:
        yield from f


def _scan(path: Path) -> _Scan:
    scan = _Scan()
    current: str | None = None
    last_s: str | None = None
    x = y = 0.0
    for raw in _lines(path):
        line = raw.strip()
        if line.upper().startswith("EXCLUDE_OBJECT_DEFINE"):
            scan.processed = True
            return scan
        info = _OBJECTS_INFO.match(line)
        if info:
            _read_objects_info(info.group(1), scan)
            continue
        m486 = _M486.match(line)
        if m486 and m486.group(1).upper() == "S":
            last_s = m486.group(2)
        elif m486 and m486.group(1).upper() == "A" and last_s is not None:
            scan.m486_names[last_s] = safe_name(m486.group(2))
            if current is not None and current in scan.objects:
                # the name comes after the S line: rename what was collected
                obj = scan.objects.pop(current)
                current = obj.name = scan.m486_names[last_s]
                scan.objects[current] = obj
            continue
        kind, name = _label(line, scan.m486_names, current)
        if kind == "start" and name:
            current = name
            scan.objects.setdefault(name, _Object(name))
        elif kind == "stop":
            current = None
        elif line[:2].upper() in ("G0", "G1", "G2", "G3"):
            words = {k.upper(): float(v) for k, v in _WORD.findall(line.split(";", 1)[0])}
            nx, ny = words.get("X", x), words.get("Y", y)
            if current is not None and words.get("E", 0.0) > 0:
                scan.objects[current].points += [(x, y), (nx, ny)]
            x, y = nx, ny
    return scan


def _read_objects_info(text: str, scan: _Scan) -> None:
    try:
        data = json.loads(text)
    except ValueError:
        return
    for item in data.get("objects", []) if isinstance(data, dict) else []:
        if not isinstance(item, dict) or "name" not in item:
            continue
        name = safe_name(str(item["name"]))
        polygon = item.get("polygon")
        obj = scan.objects.setdefault(name, _Object(name))
        if isinstance(polygon, list):
            obj.polygon = [[round(float(p[0]), 3), round(float(p[1]), 3)] for p in polygon]


def convex_hull(points: list[tuple[float, float]]) -> list[list[float]]:
    """Monotone chain; counter-clockwise, no repeated first point."""
    pts = sorted(set(points))
    if len(pts) <= 2:
        return [[round(px, 3), round(py, 3)] for px, py in pts]

    def cross(o: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list[tuple[float, float]] = []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    upper: list[tuple[float, float]] = []
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return [[round(px, 3), round(py, 3)] for px, py in lower[:-1] + upper[:-1]]


def _define(obj: _Object) -> str:
    polygon = obj.polygon or convex_hull(obj.points)
    line = f"EXCLUDE_OBJECT_DEFINE NAME={obj.name}"
    if polygon:
        xs = [p[0] for p in polygon]
        ys = [p[1] for p in polygon]
        cx, cy = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
        line += f" CENTER={cx:.3f},{cy:.3f} POLYGON={json.dumps(polygon, separators=(',', ':'))}"
    return line


def add_markers(src: Path, dst: Path) -> bool:
    """Write `src` with EXCLUDE_OBJECT markers to `dst`; False (nothing written) when
    the file has no labels or was processed already."""
    scan = _scan(src)
    if scan.processed or not scan.objects:
        return False
    defines = [_define(obj) for obj in scan.objects.values()]
    current: str | None = None
    defined = False
    with open(dst, "w", encoding="utf-8", errors="surrogateescape", newline="") as out:
        for raw in _lines(src):
            line = raw.strip()
            newline = "\r\n" if raw.endswith("\r\n") else "\n"
            if not defined and line and not line.startswith(";"):
                out.write(newline.join(defines) + newline)
                defined = True
            # M486 lines stay as comments: the markers do their work, and Marlin must
            # not skip objects on its own as well
            text = f"; {line}{newline}" if _M486.match(line) else raw
            kind, name = _label(line, scan.m486_names, current)
            if kind == "start" and name and name != current:
                if current is not None:
                    out.write(f"EXCLUDE_OBJECT_END NAME={current}{newline}")
                current = name
                out.write(text if text.endswith("\n") else text + newline)
                out.write(f"EXCLUDE_OBJECT_START NAME={name}{newline}")
                continue
            if kind == "stop" and current is not None:
                out.write(f"EXCLUDE_OBJECT_END NAME={current}{newline}")
                current = None
            out.write(text)
        if current is not None:
            out.write(f"{newline}EXCLUDE_OBJECT_END NAME={current}{newline}")
    return True


def process_in_place(path: Path) -> bool:
    """add_markers on an upload's temporary file (before it is put in place)."""
    tmp = path.with_name(path.name + ".labels")
    try:
        changed = add_markers(path, tmp)
        if changed:
            tmp.replace(path)
        return changed
    finally:
        tmp.unlink(missing_ok=True)
