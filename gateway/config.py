"""moonraker.conf-style INI parsed once into typed msgspec structs.

A bad value stops start-up with a message naming the section, the option and what was
expected; an unknown option is a warning, and so is a section no loaded component read
(`unread_sections`). Sections are typed on first use so that each component declares its
own struct beside its code.
"""

from __future__ import annotations

import configparser
import logging
import types
import typing
from pathlib import Path
from typing import Protocol, TypeVar

import msgspec


class ConfigScreen(Protocol):
    """What Config.load asks about the options it read (gateway.hostpolicy.HostPolicy:
    options naming host paths or programs)."""

    def screen(self, config: Config) -> list[str]:
        """Drop refused options from `config`; the warnings."""
        ...


log = logging.getLogger(__name__)

S = TypeVar("S", bound=msgspec.Struct)


class ConfigError(Exception):
    """Start-up stops with this message."""


def _is_list_type(tp: object) -> bool:
    origin = typing.get_origin(tp)
    if origin in (list, tuple, set, frozenset):
        return True
    if origin in (typing.Union, types.UnionType):
        return any(_is_list_type(arg) for arg in typing.get_args(tp))
    return False


def _type_name(tp: object) -> str:
    if isinstance(tp, type):
        return tp.__name__
    return str(tp).replace("typing.", "")


def split_list(raw: str) -> list[str]:
    """INI lists are one item per line, or comma separated on one line."""
    parts = raw.splitlines() if "\n" in raw.strip() else raw.split(",")
    return [p.strip() for p in parts if p.strip()]


_NULL_WORDS = {"none", "null", ""}


def convert_option(section: str, option: str, raw: str, tp: object) -> object:
    if raw.strip().lower() in _NULL_WORDS and _accepts_none(tp):
        return None
    value: object = split_list(raw) if _is_list_type(tp) else raw.strip()
    try:
        return msgspec.convert(value, tp, strict=False)
    except msgspec.ValidationError:
        raise ConfigError(
            f"[{section}] option '{option}': expected {_type_name(tp)}, got {raw!r}"
        ) from None


def _accepts_none(tp: object) -> bool:
    return type(None) in typing.get_args(tp)


class Config:
    """The parsed file. `section(name, Struct)` returns the typed section."""

    def __init__(self, parser: configparser.ConfigParser, path: Path | None) -> None:
        self._parser = parser
        self.path = path
        self._typed: dict[str, msgspec.Struct] = {}
        # what the components asked for: the rest is unknown to us
        self._read: set[str] = set()
        self._read_prefixes: set[str] = set()
        # options refused by the host policy, for server.info's warnings
        self.warnings: list[str] = []

    @classmethod
    def load(cls, path: Path | None, policy: ConfigScreen | None = None) -> Config:
        """The file at `path`; with a `policy`, options naming host paths or programs
        that it refuses are dropped (a warning each)."""
        parser = configparser.ConfigParser(interpolation=None, strict=True)
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        config = cls(parser, None)
        if path is not None and path.exists():
            try:
                parser.read(path, encoding="utf-8")
            except (configparser.Error, UnicodeDecodeError) as exc:
                raise ConfigError(f"{path}: {exc}") from None
            config.path = path
        if policy is not None:
            config.warnings = policy.screen(config)
            for warning in config.warnings:
                log.warning("%s", warning)
        return config

    @classmethod
    def from_string(cls, text: str) -> Config:
        parser = configparser.ConfigParser(interpolation=None, strict=True)
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        try:
            parser.read_string(text)
        except configparser.Error as exc:
            raise ConfigError(str(exc)) from None
        return cls(parser, None)

    def has_section(self, name: str) -> bool:
        return self._parser.has_section(name)

    def sections(self) -> list[str]:
        return self._parser.sections()

    def prefixed_sections(self, prefix: str) -> list[str]:
        """Names after `prefix ` of sections like `[gcode_macro PAUSE]`."""
        start = prefix + " "
        self._read_prefixes.add(start)
        return [s[len(start) :].strip() for s in self.sections() if s.startswith(start)]

    def drop_option(self, section: str, option: str) -> None:
        self._parser.remove_option(section, option)
        self._typed.pop(section, None)

    def drop_section(self, section: str) -> None:
        self._parser.remove_section(section)
        self._typed.pop(section, None)

    def raw(self, name: str) -> dict[str, str]:
        self._read.add(name)
        return self._raw(name)

    def peek(self, name: str) -> dict[str, str]:
        """The options of a section without counting it as read (the host policy looks
        at every section; that does not make a typo a known section)."""
        return self._raw(name)

    def _raw(self, name: str) -> dict[str, str]:
        if not self._parser.has_section(name):
            return {}
        return dict(self._parser.items(name))

    def section(self, name: str, struct: type[S], dynamic: tuple[str, ...] = ()) -> S:
        """`dynamic`: prefixes of options the component reads itself with raw() (e.g.
        `parameter_<name>`); they are not warned about as unknown."""
        cached = self._typed.get(name)
        if cached is not None:
            if not isinstance(cached, struct):
                raise TypeError(f"section {name} already typed as {type(cached).__name__}")
            return cached
        raw = self.raw(name)
        hints = typing.get_type_hints(struct)
        fields = {f.name: f for f in msgspec.structs.fields(struct)}
        values: dict[str, object] = {}
        for option, text in raw.items():
            field = fields.get(option)
            if field is None:
                if not option.startswith(dynamic):
                    log.warning("[%s] unknown option '%s' ignored", name, option)
                continue
            values[field.name] = convert_option(name, option, text, hints[field.name])
        try:
            typed = struct(**values)
        except (ValueError, TypeError, msgspec.ValidationError) as exc:
            raise ConfigError(f"[{name}] {exc}") from None
        self._typed[name] = typed
        return typed

    def unread_sections(self) -> list[str]:
        """Sections nobody asked for (section, raw or prefixed_sections): typos, or
        options of a component that is not installed."""
        prefixes = tuple(self._read_prefixes)
        return [s for s in self.sections()
                if s not in self._read and not s.startswith(prefixes)]

    def as_dict(self) -> dict[str, object]:
        """Typed values of every section parsed so far, for server.config."""
        return {name: msgspec.to_builtins(value) for name, value in self._typed.items()}

    def orig(self) -> dict[str, dict[str, str]]:
        return {"DEFAULT": {}, **{s: self._raw(s) for s in self.sections()}}
