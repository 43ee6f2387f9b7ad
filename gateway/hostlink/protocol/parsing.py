"""Parsers for single firmware lines. Pure functions, no state."""

from __future__ import annotations

import re

from .events import ErrorKind, HeaterReading, MachineLimits, SdFile, SdStatus, SettingReport

# ``T:210.0 /210.0``, ``B:60 /60``, ``@:127``, ``B@:0``, ``@1:0``, ``W:?``.
_TEMP_TOKEN = re.compile(
    r"(?<![A-Za-z0-9@])([A-Z][A-Z0-9]*@?\d*|@\d*):\s*([-+]?(?:\d+\.?\d*|\.\d+|inf))"
    r"(?:\s*/\s*([-+]?(?:\d+\.?\d*|\.\d+)))?"
)
_TEMP_START = re.compile(r"(?:T\d*|B|C):\s*[-+]?[\d.]")
_AXIS_TOKEN = re.compile(r"([A-Z]):\s*([-+]?(?:\d+\.?\d*|\.\d+))")
_FIELD_KEY = re.compile(r"(?:^|\s)([A-Z][A-Z0-9_]+):")
_RESEND = re.compile(r"(?:resend|rs)\s*:?\s*N?:?\s*(\d+)", re.IGNORECASE)
_SD_BYTES = re.compile(r"SD printing byte\s+(\d+)\s*/\s*(\d+)")
_NUM = r"\s*([-+]?(?:\d+\.?\d*|\.\d+))"
_SOFT_ENDSTOPS = re.compile(
    r"Min:\s*X" + _NUM + r"\s*Y" + _NUM + r"\s*Z" + _NUM
    + r"\s+Max:\s*X" + _NUM + r"\s*Y" + _NUM + r"\s*Z" + _NUM
)
_SETTING = re.compile(r"^\s*(M\d+)((?:\s+[A-Z][-+]?(?:\d+\.?\d*|\.\d+))+)\s*$")
_SETTING_WORD = re.compile(r"([A-Z])([-+]?(?:\d+\.?\d*|\.\d+))")
_AREA = re.compile(
    r"^area:\{full:\{min:\{x:" + _NUM + r",y:" + _NUM + r",z:" + _NUM
    + r"\},max:\{x:" + _NUM + r",y:" + _NUM + r",z:" + _NUM + r"\}"
)
_FILE_OPENED = re.compile(r"File opened:\s*(\S+)\s+Size:\s*(\d+)")
_LAST_LINE = re.compile(r"Last Line:\s*(-?\d+)")
_MEATPACK = re.compile(r"\[MP\]\s+PV\d+\s+(ON|OFF)\s+(NSP|ESP)")

_LINE_ERRORS = (
    "checksum mismatch",
    "line number is not",
    "no checksum",
    "no line number",
    "missing checksum",
)
_HALT_ERRORS = (
    "printer halted",
    "kill() called",
    "maxtemp",
    "mintemp",
    "thermal runaway",
    "heating failed",
    "stopped due to errors",
)


class OkLine:
    """The fields of an ``ok`` line: ``ok N10 P15 B3`` / ``ok T:...`` / ``ok``."""

    __slots__ = ("b", "n", "p", "temperatures")

    def __init__(self, n: int | None, p: int | None, b: int | None, temperatures: str | None):
        self.n = n
        self.p = p
        self.b = b
        self.temperatures = temperatures


def parse_ok(line: str) -> OkLine:
    rest = line[2:].strip()
    if not rest:
        return OkLine(None, None, None, None)
    if "T:" in rest or "B:" in rest:
        return OkLine(None, None, None, rest)
    n = p = b = None
    # Split rather than regex: this runs once per line on the hot path.
    for tok in rest.split():
        key = tok[0]
        value = tok[1:]
        if not value.lstrip("-").isdigit():
            continue
        if key == "N":
            n = int(value)
        elif key == "P":
            p = int(value)
        elif key == "B":
            b = int(value)
    return OkLine(n, p, b, None)


def parse_resend(line: str) -> int | None:
    """The line number of ``Resend: 12`` / ``Resend:12`` / ``rs N12``."""
    m = _RESEND.match(line)
    return int(m.group(1)) if m else None


def is_temperature_line(line: str) -> bool:
    return _TEMP_START.match(line) is not None


def parse_temperatures(text: str) -> dict[str, HeaterReading]:
    """Sensors of a temperature report, powers folded in. ``W:`` (M109's
    remaining wait) and raw ADC values in parentheses are ignored."""
    readings: dict[str, tuple[float, float | None]] = {}
    powers: dict[str, int] = {}
    for key, actual, target in _TEMP_TOKEN.findall(text):
        if "@" in key:
            # "@" is the active tool, "@1" tool 1, "B@" the bed.
            sensor = (
                "T" + key[1:]
                if key[0] == "@"
                else key[: key.index("@")] + key[key.index("@") + 1 :]
            )
            powers[sensor] = int(float(actual))
        elif key != "W":
            readings[key] = (float(actual), float(target) if target else None)
    return {
        name: HeaterReading(actual=actual, target=target, power=powers.get(name))
        for name, (actual, target) in readings.items()
    }


def is_position_line(line: str) -> bool:
    return line.startswith("X:") and " Y:" in line


def parse_position(line: str) -> tuple[dict[str, float], dict[str, int]]:
    head, _, count = line.partition(" Count ")
    axes = {k: float(v) for k, v in _AXIS_TOKEN.findall(head)}
    counts = {k: int(float(v)) for k, v in _AXIS_TOKEN.findall(count)}
    return axes, counts


def parse_key_fields(line: str) -> dict[str, str]:
    """``FIRMWARE_NAME:Marlin 2.1 (date) SOURCE_CODE_URL:... UUID:...`` as a
    dict. Values may contain spaces; a key is an upper-case word before ':'."""
    keys = list(_FIELD_KEY.finditer(line))
    fields: dict[str, str] = {}
    for i, m in enumerate(keys):
        end = keys[i + 1].start() if i + 1 < len(keys) else len(line)
        fields[m.group(1)] = line[m.end() : end].strip()
    return fields


def parse_capability(line: str) -> tuple[str, bool] | None:
    """``Cap:AUTOREPORT_TEMP:1`` -> ("AUTOREPORT_TEMP", True)."""
    name, sep, value = line[4:].rpartition(":")
    if not sep or not name:
        return None
    return name.strip(), value.strip() == "1"


def parse_soft_endstops(body: str) -> MachineLimits | None:
    """``Soft endstops: On  Min:  X0.00 Y0.00 Z0.00   Max:  X235.00 Y235.00 Z250.00``
    (one line, Marlin 2.0) or ``  Min:  X.. Max: ..`` (Marlin 2.1's M211 report)."""
    m = _SOFT_ENDSTOPS.search(body)
    if m is None:
        return None
    v = [float(g) for g in m.groups()]
    low = body.lower()
    enabled = not ("endstops: off" in low or "m211 s0" in low)
    return MachineLimits((v[0], v[1], v[2]), (v[3], v[4], v[5]), "soft_endstops", enabled)


def parse_setting(body: str) -> SettingReport | None:
    """An M503 line: `  M203 X300.00 Y300.00 Z5.00 E25.00` (numeric words only)."""
    m = _SETTING.match(body)
    if m is None:
        return None
    words = {k: float(v) for k, v in _SETTING_WORD.findall(m.group(2))}
    return SettingReport(m.group(1), words)


def parse_build_area(line: str) -> MachineLimits | None:
    """M115's ``area:{full:{min:{x:0.000,y:0.000,z:0.000},max:{x:235.000,...}},work:..}``."""
    m = _AREA.match(line)
    if m is None:
        return None
    v = [float(g) for g in m.groups()]
    return MachineLimits((v[0], v[1], v[2]), (v[3], v[4], v[5]), "build_area")


def parse_sd_status(line: str) -> SdStatus | None:
    if line.startswith("Not SD printing"):
        return SdStatus(printing=False)
    m = _SD_BYTES.match(line)
    if m:
        return SdStatus(printing=True, position=int(m.group(1)), size=int(m.group(2)))
    return None


def parse_sd_file(line: str) -> SdFile:
    """One ``M20`` entry: ``NAME.GCO 1234`` or, with ``M20 L``,
    ``NAME~1.GCO 1234 Long Name.gcode``."""
    parts = line.split(" ", 2)
    size: int | None = None
    if len(parts) > 1 and parts[1].isdigit():
        size = int(parts[1])
        long_name = parts[2].strip() if len(parts) > 2 and parts[2].strip() else None
        return SdFile(name=parts[0], size=size, long_name=long_name)
    return SdFile(name=line.strip())


def classify_error(message: str) -> ErrorKind:
    low = message.lower()
    if any(s in low for s in _HALT_ERRORS):
        return ErrorKind.HALT
    if any(s in low for s in _LINE_ERRORS):
        return ErrorKind.LINE
    return ErrorKind.COMMAND


def parse_file_opened(line: str) -> tuple[str, int] | None:
    """M23's ``File opened: NAME.GCO Size: 1234`` -> (name, size)."""
    m = _FILE_OPENED.match(line)
    return (m.group(1), int(m.group(2))) if m else None


def parse_last_line(message: str) -> int | None:
    """The firmware's last accepted line number named by a line error
    (``Line Number is not Last Line Number+1, Last Line: 41``)."""
    m = _LAST_LINE.search(message)
    return int(m.group(1)) if m else None


def parse_meatpack_state(line: str) -> tuple[bool, bool] | None:
    """``[MP] PV01 ON NSP`` -> (packing on, spaces omitted)."""
    m = _MEATPACK.match(line)
    return (m.group(1) == "ON", m.group(2) == "NSP") if m else None


_MARLIN_VERSION = re.compile(r"Marlin\s+(?:bugfix-)?[vV]?(\d+)\.(\d+)(?:\.(\d+))?")


def parse_marlin_version(firmware_name: str) -> tuple[int, int, int] | None:
    """M115's FIRMWARE_NAME (``Marlin 2.1.2.1 (Sep 1 2023 ...)``, ``Marlin bugfix-2.1.x``)
    -> (2, 1, 2); None for other firmware."""
    m = _MARLIN_VERSION.search(firmware_name)
    if m is None:
        return None
    return (int(m.group(1)), int(m.group(2)), int(m.group(3) or 0))


def parse_psu_state(line: str) -> bool | None:
    """``M80 S``'s answer (Marlin 2.0.9 and later): ``PS:1`` on, ``PS:0`` off."""
    text = line.strip()
    if text == "PS:1":
        return True
    if text == "PS:0":
        return False
    return None


def unknown_command(message: str) -> str:
    """``Unknown command: "M211 S1"`` -> ``M211 S1``; "" when no command is quoted."""
    return message.partition('"')[2].rpartition('"')[0]
