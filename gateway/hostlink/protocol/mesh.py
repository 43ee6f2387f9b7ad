"""Marlin's levelling reports (G29, G29 T, M420 V): a pure function from the firmware's
reply lines to a mesh. The printer component hands these lines over (PrinterApi.read_mesh);
no component reads the text itself.

Formats understood (Marlin 2.x, also older spellings):

* bilinear (`G29`, `G29 T`, `M420 V`): "Bilinear Leveling Grid:", a header of column
  indices, then one row per Y index, front row first; an unprobed point is `=====`
  (any run of '='), `nan` or missing at the end of a row. A following
  "Subdivided with CATMULL ROM Leveling Grid:" block is not the probed mesh and is skipped.
* manual mesh bed levelling (`G29 S0`, `M420 V`): "Mesh Bed Level data:" /
  "Measured points:" followed by the same grid layout.
* UBL (`G29 T`, `M420 V`): "Bed Topography Report:" with corner coordinates such as
  `(  30,205)`, column labels, rows `J | v v [v] v` printed back row first, `.` for an
  unprobed point, `[ ]`/`( )` around the point nearest the nozzle; or the CSV map
  (`G29 T1`), tab separated, back row first, `NAN` for unprobed points.

Lines may carry an `echo:` prefix and any leading/trailing spaces. The result's `points`
are indexed `[y][x]` with the front row (lowest Y) first, as Klipper's `probed_matrix`.
Bounds come from the report when it has them (UBL corners, or `Bed X: Y: Z:` lines of a
verbose bilinear probe); otherwise they stay None and the caller fills them from config.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

Point = float | None
Matrix = list[list[Point]]

_ENABLED = re.compile(r"\bBed Leveling (ON|OFF)\b", re.IGNORECASE)
_UBL_STATE = re.compile(r"Unified Bed Leveling\b.*?\b(in)?active\b", re.IGNORECASE)
_PROBE_POINT = re.compile(
    r"^Bed X:\s*(-?\d+(?:\.\d*)?)\s+Y:\s*(-?\d+(?:\.\d*)?)\s+Z:\s*(-?\d+(?:\.\d*)?|nan)",
    re.IGNORECASE,
)
_CORNER = re.compile(r"\(\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*\)")
_UBL_ROW = re.compile(r"^(\d+)\s*\|(.*)$")
_NO_MESH = ("invalid mesh", "has no data", "no bilinear grid")


@dataclass(slots=True)
class MeshReport:
    leveling: str  # "bilinear" | "ubl" | "mbl"
    points: Matrix
    mesh_min: tuple[float, float] | None = None
    mesh_max: tuple[float, float] | None = None
    enabled: bool | None = None

    @property
    def x_count(self) -> int:
        return max((len(row) for row in self.points), default=0)

    @property
    def y_count(self) -> int:
        return len(self.points)


def normalize(line: str) -> str:
    """Strip spaces and any `echo:` prefixes."""
    text = line.strip()
    while text[:5].lower() == "echo:":
        text = text[5:].strip()
    return text


def parse_value(token: str) -> tuple[bool, Point]:
    """(is a mesh value, value): `+0.125`, `-0.05`, `=====`, `nan`, `.`."""
    tok = token.strip().strip(",")
    if not tok:
        return False, None
    if set(tok) == {"="} or tok == "." or tok.lower() in ("nan", "-nan", "+nan"):
        return True, None
    try:
        return True, float(tok)
    except ValueError:
        return False, None


def asks_for_homing(lines: Iterable[str]) -> bool:
    """G29 refused because the axes are not homed (``?Home XYZ first``,
    ``echo:Home XYZ First``)."""
    return any("home" in low and "first" in low for low in (ln.lower() for ln in lines))


def parse_report(lines: Iterable[str]) -> MeshReport | None:
    """The last mesh reported in `lines`, or None if there is none (or it was declared
    invalid after it was printed)."""
    text = [t for t in (normalize(raw) for raw in lines) if t]
    found: MeshReport | None = None
    enabled: bool | None = None
    probes: list[tuple[float, float]] = []
    i = 0
    while i < len(text):
        line = text[i]
        low = line.lower()
        block: tuple[MeshReport | None, int] | None = None
        if low.startswith("bilinear leveling grid"):
            block = _read_grid(text, i + 1, "bilinear")
        elif low.startswith(("mesh bed level data", "measured points")):
            block = _read_grid(text, i + 1, "mbl")
        elif "bed topography report" in low:
            block = _read_ubl(text, i + 1, csv="csv" in low)
        elif low.startswith("subdivided with catmull rom"):
            block = (None, _skip_grid(text, i + 1))
        if block is not None:
            mesh, i = block
            if mesh is not None:
                found = mesh
            continue
        if any(marker in low for marker in _NO_MESH) and (
            found is None or found.leveling != "ubl"
        ):
            # UBL prints its map even with holes, then "Invalid mesh.": keep the map
            found = None
        state = _ENABLED.search(line)
        if state is not None:
            enabled = state.group(1).upper() == "ON"
        ubl = _UBL_STATE.search(line)
        if ubl is not None:
            enabled = ubl.group(1) is None
        probe = _PROBE_POINT.match(line)
        if probe is not None:
            probes.append((float(probe.group(1)), float(probe.group(2))))
        i += 1
    if found is None:
        return None
    found.enabled = enabled
    if found.mesh_min is None and found.leveling == "bilinear":
        _bounds_from_probes(found, probes)
    return found


def _ints(tokens: Sequence[str]) -> list[int] | None:
    try:
        return [int(tok) for tok in tokens]
    except ValueError:
        return None


def _is_header(line: str) -> int:
    """Number of columns if `line` is a column header `0 1 2 ... n-1`, else 0."""
    numbers = _ints(line.split())
    if not numbers or numbers != list(range(len(numbers))):
        return 0
    return len(numbers)


def _grid_row(line: str, expected: int) -> list[Point] | None:
    tokens = line.split()
    if not tokens or _ints(tokens[:1]) != [expected]:
        return None
    values: list[Point] = []
    for tok in tokens[1:]:
        ok, value = parse_value(tok)
        if not ok:
            return None
        values.append(value)
    return values


def _read_grid(text: list[str], i: int, leveling: str) -> tuple[MeshReport | None, int]:
    """A `print_2d_array` block: at most a few preamble lines, a header, then rows."""
    columns = 0
    for _ in range(4):
        if i >= len(text):
            return None, i
        columns = _is_header(text[i])
        i += 1
        if columns:
            break
    if not columns:
        return None, i
    rows: Matrix = []
    while i < len(text):
        row = _grid_row(text[i], len(rows))
        if row is None:
            break
        rows.append((row + [None] * columns)[: max(columns, len(row))])
        i += 1
    if not rows:
        return None, i
    return MeshReport(leveling, rows), i


def _skip_grid(text: list[str], i: int) -> int:
    _, end = _read_grid(text, i, "bilinear")
    return end


def _read_ubl(text: list[str], i: int, *, csv: bool) -> tuple[MeshReport | None, int]:
    if csv:
        return _read_ubl_csv(text, i)
    rows: dict[int, list[Point]] = {}
    corners: list[tuple[float, float]] = []
    while i < len(text):
        line = text[i]
        pairs = _CORNER.findall(line)
        row = _UBL_ROW.match(line)
        if row is not None:
            cells = _ubl_cells(row.group(2))
            if cells is None:
                break
            rows[int(row.group(1))] = cells
        elif pairs and not _CORNER.sub("", line).strip():
            corners.extend((float(x), float(y)) for x, y in pairs)
        elif not (line.strip("| ") == "" or _is_header(line)):
            break
        i += 1
        if rows and len(corners) >= 4:
            break
    if not rows:
        return None, i
    points = [rows.get(j, []) for j in range(max(rows) + 1)]
    width = max(len(r) for r in points)
    points = [r + [None] * (width - len(r)) for r in points]
    report = MeshReport("ubl", points)
    if len(corners) >= 2:
        xs = [c[0] for c in corners]
        ys = [c[1] for c in corners]
        if min(xs) < max(xs) and min(ys) < max(ys):
            report.mesh_min = (min(xs), min(ys))
            report.mesh_max = (max(xs), max(ys))
    return report, i


def _ubl_cells(body: str) -> list[Point] | None:
    cells: list[Point] = []
    for tok in re.sub(r"[\[\]()]", " ", body).split():
        ok, value = parse_value(tok)
        if not ok:
            return None
        cells.append(value)
    return cells


def _read_ubl_csv(text: list[str], i: int) -> tuple[MeshReport | None, int]:
    rows: Matrix = []
    while i < len(text):
        tokens = [t for t in re.split(r"[\t,;]+|\s+", text[i]) if t]
        values: list[Point] = []
        for tok in tokens:
            ok, value = parse_value(tok)
            if not ok:
                break
            values.append(value)
        else:
            if values:
                rows.append(values)
                i += 1
                continue
        break
    if not rows:
        return None, i
    rows.reverse()  # printed back row (highest Y) first
    return MeshReport("ubl", rows), i


def _bounds_from_probes(report: MeshReport, probes: list[tuple[float, float]]) -> None:
    if len(probes) < 2:
        return
    xs = [p[0] for p in probes]
    ys = [p[1] for p in probes]
    if min(xs) < max(xs) and min(ys) < max(ys):
        report.mesh_min = (min(xs), min(ys))
        report.mesh_max = (max(xs), max(ys))
