"""Small text helpers shared by the slicer parsers."""

from __future__ import annotations

import re

__all__ = [
    "NUM",
    "all_numbers",
    "find_float",
    "find_floats",
    "find_int",
    "find_string",
    "first_number",
    "gcode_end_byte",
    "gcode_start_byte",
    "parse_duration",
    "split_values",
    "to_float",
    "to_int",
]

# An unsigned decimal number ("12", "0.2", ".4"), as slicers write them.
NUM = r"([0-9]*\.?[0-9]+)"
_NUM_RE = re.compile(r"[-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?")

_DURATION_PARTS = re.compile(
    r"(\d+(?:\.\d+)?)\s*(d|days?|h|hours?|hrs?|m|mins?|minutes?|s|secs?|seconds?)\b",
    re.IGNORECASE,
)
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def to_float(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None


def to_int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


def first_number(value: str | None) -> float | None:
    """The first number found in ``value`` ("0.4,0.4" -> 0.4, "215C" -> 215)."""
    if not value:
        return None
    m = _NUM_RE.search(value)
    return float(m.group()) if m else None


def all_numbers(value: str) -> list[float]:
    return [float(x) for x in _NUM_RE.findall(value)]


def find_float(rx: re.Pattern[str], text: str) -> float | None:
    m = rx.search(text)
    return to_float(m.group(1)) if m else None


def find_int(rx: re.Pattern[str], text: str) -> int | None:
    m = rx.search(text)
    return to_int(m.group(1)) if m else None


def find_floats(rx: re.Pattern[str], text: str) -> list[float]:
    out: list[float] = []
    for m in rx.finditer(text):
        v = to_float(m.group(1))
        if v is not None:
            out.append(v)
    return out


def find_string(rx: re.Pattern[str], text: str) -> str | None:
    m = rx.search(text)
    if m is None:
        return None
    return m.group(1).strip().strip('"')


def parse_duration(text: str) -> int | None:
    """Seconds in "1d 2h 3m 4s", "1 hours 2 minutes", "12m 6s" ... or None."""
    total = 0.0
    found = False
    for m in _DURATION_PARTS.finditer(text):
        unit = m.group(2)[0].lower()
        total += float(m.group(1)) * _UNIT_SECONDS[unit]
        found = True
    return round(total) if found else None


def split_values(value: str, separators: str = ",;") -> list[str]:
    """Split a config list value; double-quoted items may contain separators.

    ``"Generic PLA";"My \\"Fancy\\" PETG"`` -> ``['Generic PLA', 'My "Fancy" PETG']``.
    Empty items are dropped.
    """
    items: list[str] = []
    buf: list[str] = []
    quoted = False
    was_quoted = False
    i = 0
    n = len(value)
    while i < n:
        ch = value[i]
        if quoted:
            if ch == "\\" and i + 1 < n and value[i + 1] == '"':
                buf.append('"')
                i += 2
                continue
            if ch == '"':
                quoted = False
            else:
                buf.append(ch)
        elif ch == '"' and not "".join(buf).strip():
            buf.clear()
            quoted = True
            was_quoted = True
        elif ch in separators:
            item = "".join(buf) if was_quoted else "".join(buf).strip()
            if item.strip():
                items.append(item.strip())
            buf.clear()
            was_quoted = False
        else:
            buf.append(ch)
        i += 1
    item = "".join(buf).strip()
    if item:
        items.append(item)
    return items


def _is_command_at(data: bytes, pos: int) -> bool:
    return data[pos : pos + 1] in (b"G", b"M") and data[pos + 1 : pos + 2].isdigit()


def gcode_start_byte(head: bytes) -> int | None:
    """Offset of the newline preceding the first G/M command line.

    This mirrors the value Moonraker reports (the newline that ends the
    comment header).  A command on the very first line gives 0.
    """
    if _is_command_at(head, 0):
        return 0
    best: int | None = None
    for marker in (b"\nG", b"\nM"):
        pos = head.find(marker)
        while pos >= 0 and (best is None or pos < best):
            if _is_command_at(head, pos + 1):
                best = pos
                break
            pos = head.find(marker, pos + 2)
    return best


def gcode_end_byte(tail: bytes, tail_offset: int) -> int | None:
    """Absolute offset just past the line ending of the last G/M command line."""
    best: int | None = None
    for marker in (b"\nG", b"\nM"):
        pos = tail.rfind(marker)
        while pos >= 0 and (best is None or pos > best):
            if _is_command_at(tail, pos + 1):
                best = pos
                break
            pos = tail.rfind(marker, 0, pos)
    if best is None:
        if tail_offset == 0 and _is_command_at(tail, 0):
            best = -1
        else:
            return None
    eol = tail.find(b"\n", best + 1)
    end = len(tail) if eol < 0 else eol + 1
    return tail_offset + end
