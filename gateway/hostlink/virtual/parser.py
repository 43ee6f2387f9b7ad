"""Text-level helpers: line checksums, Marlin-style ``strtol`` and G-code parsing."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Commands whose argument is free text (Marlin gives them ``parser.string_arg``).
_STRING_ARG = frozenset(
    {
        ("M", 0),
        ("M", 1),
        ("M", 23),
        ("M", 28),
        ("M", 30),
        ("M", 32),
        ("M", 33),
        ("M", 117),
        ("M", 118),
        ("M", 928),
    }
)
_PARAM_RE = re.compile(r"([A-Za-z])\s*([-+]?(?:\d+\.?\d*|\.\d+)?)")
_LEAD_N_RE = re.compile(r"^N\s*-?\d*\s*")
_STRTOL_RE = re.compile(r"\s*([-+]?\d+)")


def checksum(data: str) -> int:
    """The XOR of every byte of ``data`` (Marlin's line checksum)."""
    cs = 0
    for b in data.encode("latin-1"):
        cs ^= b
    return cs


def strtol(text: str) -> int:
    """Leading optional-sign decimal integer of ``text``; 0 if there is none (like C)."""
    m = _STRTOL_RE.match(text)
    return int(m.group(1)) if m else 0


def strip_comment(raw: str, max_len: int) -> str:
    """What Marlin keeps of a received line: text before ``;``, cut to ``max_len`` chars."""
    semi = raw.find(";")
    if semi >= 0:
        raw = raw[:semi]
    return raw[:max_len]


def command_text(line: str) -> str:
    """A queued line without its ``N`` word, checksum and surrounding spaces."""
    s = line.strip()
    if s[:1] == "N":
        s = _LEAD_N_RE.sub("", s, count=1)
    star = s.find("*")
    if star >= 0:
        s = s[:star]
    return s.strip()


@dataclass
class Gcode:
    """One parsed command."""

    text: str  # normalised command text (no N, no checksum)
    letter: str  # "G", "M", "T" or "" when not a command
    code: int = -1
    sub: int | None = None
    params: dict[str, str] = field(default_factory=dict)
    string_arg: str = ""

    def has(self, key: str) -> bool:
        return key in self.params

    def has_value(self, key: str) -> bool:
        return bool(self.params.get(key, ""))

    def float(self, key: str, default: float = 0.0) -> float:
        v = self.params.get(key, "")
        if not v:
            return default
        try:
            return float(v)
        except ValueError:
            return default

    def int(self, key: str, default: int = 0) -> int:
        return int(self.float(key, float(default)))


def parse_gcode(line: str) -> Gcode:
    """Parse a queued line (with or without ``N``/checksum) into a :class:`Gcode`."""
    text = command_text(line)
    if not text:
        return Gcode(text=text, letter="")
    letter = text[0].upper()
    if letter not in "GMT":
        return Gcode(text=text, letter="")
    i = 1
    while i < len(text) and text[i] == " ":
        i += 1
    j = i
    while j < len(text) and text[j].isdigit():
        j += 1
    if j == i:
        return Gcode(text=text, letter="")
    code = int(text[i:j])
    sub: int | None = None
    if j < len(text) and text[j] == "." and j + 1 < len(text) and text[j + 1].isdigit():
        k = j + 1
        while k < len(text) and text[k].isdigit():
            k += 1
        sub = int(text[j + 1 : k])
        j = k
    rest = text[j:]
    gc = Gcode(text=text, letter=letter, code=code, sub=sub)
    if (letter, code) in _STRING_ARG:
        gc.string_arg = rest.strip()
        # M23/M30 etc. take the whole argument; M0/M1 may start with P/S words.
        if code in (0, 1):
            m = re.match(r"\s*([PS])\s*(\d+)\s*(.*)$", rest)
            if m:
                gc.params[m.group(1)] = m.group(2)
                gc.string_arg = m.group(3).strip()
        return gc
    for m in _PARAM_RE.finditer(rest):
        gc.params[m.group(1).upper()] = m.group(2)
    return gc
