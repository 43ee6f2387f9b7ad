"""A console line split the way Klipper reads it: the command word, and for extended
commands (`SET_HEATER_TEMPERATURE HEATER=extruder TARGET=200`) KEY=VALUE parameters.

Command names and parameter names are case-insensitive; values keep their case and may
be quoted with backslash escapes, as Fluidd's `encodeGcodeParamValue` writes them
(`NAME="part 1"`). The typed getters raise CommandError with a message naming the
command and the parameter.
"""

from __future__ import annotations

import math
import re
import shlex

from gateway.errors import BadRequest

# G1, M104, T0, G28.1: a "traditional" command the firmware may know; anything else
# (letters and underscores) is an extended command the host must know
_TRADITIONAL = re.compile(r"^[A-Z]\d+(\.\d+)?$")
_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
_MISSING = object()


class CommandError(BadRequest):
    """A console line refused by the host (400): the message is Klipper-style."""


def strip_comment(raw: str) -> str:
    """The line without its `;` comment; a `;` inside a double-quoted value stays."""
    if '"' not in raw:
        return raw.split(";", 1)[0].strip()
    quoted = escaped = False
    for index, char in enumerate(raw):
        if escaped:
            escaped = False
        elif char == "\\" and quoted:
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == ";" and not quoted:
            return raw[:index].strip()
    return raw.strip()


def command_word(line: str) -> str:
    """Upper-cased first word ('' for an empty line)."""
    return line.split(None, 1)[0].upper() if line.strip() else ""


def is_traditional(word: str) -> bool:
    return bool(_TRADITIONAL.match(word))


def is_extended_name(word: str) -> bool:
    return bool(_NAME.match(word)) and not is_traditional(word)


class Params(dict[str, str]):
    """KEY=VALUE parameters of one extended command (keys upper-cased).

    A plain dict to handlers written against the public `CommandHandler` signature,
    with typed getters for ours."""

    def __init__(self, command: str, line: str, values: dict[str, str]) -> None:
        super().__init__(values)
        self.command = command
        self.line = line

    @classmethod
    def parse(cls, line: str) -> Params:
        parts = line.strip().split(None, 1)
        command = parts[0].upper() if parts else ""
        rest = parts[1] if len(parts) > 1 else ""
        lexer = shlex.shlex(rest, posix=True)
        lexer.whitespace_split = True
        lexer.commenters = ""
        try:
            words = list(lexer)
        except ValueError as exc:
            raise CommandError(f"Malformed command '{line}': {exc}") from None
        values: dict[str, str] = {}
        for word in words:
            key, sep, value = word.partition("=")
            if not sep or not key:
                raise CommandError(f"Malformed command '{line}': expected KEY=VALUE, "
                                   f"got '{word}'")
            values[key.upper()] = value
        return cls(command, line, values)

    def error(self, message: str) -> CommandError:
        return CommandError(f"Error on '{self.line}': {message}")

    def get_str(self, name: str, default: object = _MISSING) -> str:
        value = self.get(name)
        if value is None:
            if default is _MISSING:
                raise self.error(f"missing {name}")
            return str(default)
        return value

    def get_opt_str(self, name: str) -> str | None:
        return self.get(name)

    def get_float(
        self,
        name: str,
        default: float | object | None = _MISSING,
        *,
        minval: float | None = None,
        maxval: float | None = None,
        above: float | None = None,
        below: float | None = None,
    ) -> float:
        raw = self.get(name)
        if raw is None:
            if default is _MISSING or default is None:
                raise self.error(f"missing {name}")
            assert isinstance(default, (int, float))
            return float(default)
        try:
            value = float(raw)
        except ValueError:
            raise self.error(f"unable to parse '{raw}' as a number for {name}") from None
        if not math.isfinite(value):
            raise self.error(f"{name} must be a finite number")
        if minval is not None and value < minval:
            raise self.error(f"{name} must have minimum of {minval:g}")
        if maxval is not None and value > maxval:
            raise self.error(f"{name} must have maximum of {maxval:g}")
        if above is not None and value <= above:
            raise self.error(f"{name} must be above {above:g}")
        if below is not None and value >= below:
            raise self.error(f"{name} must be below {below:g}")
        return value

    def get_opt_float(
        self, name: str, *, minval: float | None = None, maxval: float | None = None,
        above: float | None = None,
    ) -> float | None:
        if name not in self:
            return None
        return self.get_float(name, minval=minval, maxval=maxval, above=above)

    def get_int(
        self, name: str, default: int | object = _MISSING, *,
        minval: int | None = None, maxval: int | None = None,
    ) -> int:
        raw = self.get(name)
        if raw is None:
            if default is _MISSING:
                raise self.error(f"missing {name}")
            assert isinstance(default, int)
            return default
        try:
            value = int(raw)
        except ValueError:
            raise self.error(f"unable to parse '{raw}' as a whole number for {name}") from None
        if minval is not None and value < minval:
            raise self.error(f"{name} must have minimum of {minval}")
        if maxval is not None and value > maxval:
            raise self.error(f"{name} must have maximum of {maxval}")
        return value

    def get_flag(self, name: str) -> bool:
        """MOVE=1, RESET=1, ENABLE=0 … (absent: False)."""
        return self.get_int(name, 0) != 0
