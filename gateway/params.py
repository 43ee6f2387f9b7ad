"""Typed parameters, declared once per endpoint and converted once at the door.

An endpoint declares its parameters as a msgspec Struct (derive from `Params`): names,
types, defaults and constraints (`Annotated[int, Meta(ge=1)]`). Every door builds one
dict of raw arguments - an HTTP query string with Moonraker's type hints, form fields, a
JSON body, JSON-RPC params by name or by position - and `ParamSpec.convert` turns it into
the typed value the handler receives. A value that does not fit is the caller's error:
`InvalidParams` (JSON-RPC -32602, HTTP 400) with a message naming the argument.

Conversion is lenient where HTTP forces strings on the client: in query strings and
forms "5" → 5, "true"/"yes" → True, "a,b" → ["a", "b"] for list fields, a JSON text for
object fields. JSON bodies and JSON-RPC params carry real types: only msgspec's lax
number/boolean parsing of texts applies ("5" → 5). Floats must be finite. Unknown
arguments are ignored, as Moonraker does.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Annotated, Any

import msgspec
import msgspec.inspect as mi
from msgspec import Meta

from gateway.errors import BadRequest, InvalidParams

__all__ = [
    "COMMA",
    "MAX_DEPTH",
    "BodyError",
    "FileName",
    "FilePath",
    "ParamSpec",
    "Params",
    "decode_query_values",
    "hinted",
    "too_deep",
]

_decode = msgspec.json.Decoder().decode
_BOOL_WORDS = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False,
               "on": True, "off": False}
# a list that a text may stand for, "a,b" -> ["a", "b"], in JSON too (Moonraker's get_list):
# `Annotated[list[str], COMMA]`. Query strings and forms split every list anyway.
COMMA = Meta(extra={"comma": True})

# shared declarations: texts that name files (no control characters, NUL included)
# (where a name may not hold "/" or "..", the handler says so, in its own words)
NAME_PATTERN = r"^[^\x00-\x1f\x7f]+$"
FileName = Annotated[str, Meta(min_length=1, max_length=255, pattern=NAME_PATTERN)]
FilePath = Annotated[str, Meta(min_length=1, max_length=4096, pattern=NAME_PATTERN)]
_PATTERN_WORDS = {NAME_PATTERN: "a text without control characters"}

# JSON values may nest this deep (JSON-RPC frames, HTTP JSON bodies); deeper is refused
MAX_DEPTH = 64
_AT = re.compile(r"^(.*) - at `\$(.*)`$")
_MISSING_FIELD = re.compile(r"^Object missing required field `(.+)`$")


class Params(msgspec.Struct, kw_only=True):
    """Base of parameter declarations: keyword-only fields, unknown names ignored."""


class BodyError(BadRequest):
    """A request body that cannot be read as arguments (400, or 415 for its type)."""


def too_deep(value: object, limit: int = MAX_DEPTH) -> bool:
    """Does a decoded JSON value nest deeper than `limit` arrays/objects?"""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Iterable[object] = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children
                     if isinstance(child, (dict, list)))
    return False


def hinted(name: str, value: str) -> tuple[str, object]:
    """Moonraker's query-string type hints: `count:int=5`, `flag:bool=true`, `x:json=[1]`."""
    base, _, hint = name.partition(":")
    if not hint:
        return name, value
    try:
        if hint == "int":
            return base, int(value)
        if hint == "float":
            number = float(value)
            if not math.isfinite(number):
                raise ValueError(value)
            return base, number
        if hint == "bool":
            return base, _BOOL_WORDS[value.strip().lower()]
        if hint == "json":
            return base, _decode(value)
    except (ValueError, KeyError, RecursionError, msgspec.DecodeError):
        # UnicodeDecodeError is a ValueError
        raise InvalidParams(
            f"Unable to convert argument [{base}] to {hint}: value received: {value[:80]}"
        ) from None
    raise InvalidParams(f"Unknown type hint '{hint}' for argument [{base}]")


def decode_query_values(
    values: Mapping[str, list[bytes]] | Mapping[str, list[str]],
) -> dict[str, object]:
    """Query or form values (the last of repeated names wins), type hints applied."""
    out: dict[str, object] = {}
    for name, raw in values.items():
        last = raw[-1] if raw else ""
        text = last.decode("utf-8", errors="replace") if isinstance(last, bytes) else last
        key, value = hinted(name, text)
        out[key] = value
    return out


# -- declarations ----------------------------------------------------------------------


def _kinds(tp: mi.Type) -> set[str]:
    """What a field accepts, coarsely: 'list', 'bool', 'dict', 'float', 'str' (through
    unions; Any counts as 'str', so a text is never reinterpreted for it)."""
    if isinstance(tp, mi.UnionType):
        out: set[str] = set()
        for member in tp.types:
            out |= _kinds(member)
        return out
    if isinstance(tp, mi.Metadata):
        return _kinds(tp.type)
    if isinstance(tp, (mi.ListType, mi.SetType, mi.FrozenSetType, mi.VarTupleType,
                       mi.TupleType)):
        return {"list"}
    if isinstance(tp, mi.BoolType):
        return {"bool"}
    if isinstance(tp, (mi.DictType, mi.StructType, mi.TypedDictType, mi.DataclassType)):
        return {"dict"}
    if isinstance(tp, mi.FloatType):
        return {"float"}
    if isinstance(tp, (mi.StrType, mi.AnyType)):
        return {"str"}
    return set()


class ParamSpec:
    """One endpoint's declaration, read once at registration."""

    __slots__ = ("bools", "dicts", "floats", "lists", "names", "text_lists", "type")

    def __init__(self, tp: Any) -> None:
        info = mi.type_info(tp)
        if isinstance(info, mi.StructType):
            structs = [info]
        elif isinstance(info, mi.DictType):
            # free-form names (plugin data): the value types are still checked
            structs = []
        elif isinstance(info, mi.UnionType) and all(
                isinstance(t, mi.StructType) and t.tag is not None for t in info.types):
            # a tagged union: `{"command": "jog", ...}` picks the declaration
            structs = [t for t in info.types if isinstance(t, mi.StructType)]
        else:
            raise TypeError(f"params must be a msgspec Struct, a union of tagged Structs "
                            f"or a dict type, not {tp!r}")
        self.type = tp
        lists: list[str] = []
        bools: list[str] = []
        dicts: list[str] = []
        floats: list[str] = []
        text_lists: list[str] = []
        names: list[str] = []
        seen: set[str] = set()
        for field in (f for struct in structs for f in struct.fields):
            if field.encode_name in seen:
                continue
            seen.add(field.encode_name)
            kinds = _kinds(field.type)
            name = field.encode_name
            names.append(name)
            # strings that stand for lists/objects/booleans: HTTP cannot send anything else
            if "list" in kinds and "str" not in kinds:
                lists.append(name)
                if _text_list(field.type):
                    text_lists.append(name)
            if "dict" in kinds and "str" not in kinds:
                dicts.append(name)
            if "bool" in kinds:
                bools.append(name)
            if "float" in kinds:
                floats.append(field.name)
        self.names: tuple[str, ...] = tuple(names)
        self.lists = tuple(lists)
        self.bools = tuple(bools)
        self.dicts = tuple(dicts)
        self.floats = tuple(floats)
        self.text_lists = tuple(text_lists)

    def convert(self, args: dict[str, object], *, loosen: bool = False) -> Any:
        """The typed value for `args`. With `loosen`, texts stand for the lists, objects and
        booleans that HTTP query strings and forms cannot send otherwise (the HTTP door
        loosens those values itself; JSON bodies and JSON-RPC params carry real types)."""
        if loosen and (self.lists or self.bools or self.dicts):
            args = self.loosen(args)
        elif self.text_lists:
            # declared COMMA: a text for the list is split on commas, JSON too
            args = self._split(args, self.text_lists)
        try:
            value = msgspec.convert(args, self.type, strict=False)
        except msgspec.ValidationError as exc:
            raise InvalidParams(describe_error(str(exc))) from None
        for name in self.floats:
            number = getattr(value, name, None)
            if isinstance(number, float) and not math.isfinite(number):
                raise InvalidParams(f"Invalid argument [{name}]: expected a finite number")
        return value

    @staticmethod
    def _split(args: dict[str, object], names: tuple[str, ...]) -> dict[str, object]:
        copied = False
        for name in names:
            value = args.get(name)
            if isinstance(value, str):
                if not copied:
                    args, copied = dict(args), True
                args[name] = [v.strip() for v in value.split(",") if v.strip()]
        return args

    def loosen(self, args: dict[str, object]) -> dict[str, object]:
        """`args` with texts made lists/objects/booleans where the declaration wants them."""
        args = self._split(args, self.lists)
        copied = False
        for name in self.dicts:
            value = args.get(name)
            if isinstance(value, str) and name not in self.lists:
                try:
                    decoded = _decode(value)
                except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
                    continue  # left as is: conversion names the argument
                if not copied:
                    args, copied = dict(args), True
                args[name] = decoded
        for name in self.bools:
            value = args.get(name)
            if isinstance(value, str):
                word = _BOOL_WORDS.get(value.strip().lower())
                if word is not None:
                    if not copied:
                        args, copied = dict(args), True
                    args[name] = word
        return args


def _text_list(tp: mi.Type) -> bool:
    """Declared with COMMA: a text stands for its comma separated parts, JSON too."""
    if isinstance(tp, mi.Metadata):
        return bool((tp.extra or {}).get("comma")) or _text_list(tp.type)
    if isinstance(tp, mi.UnionType):
        return any(_text_list(t) for t in tp.types)
    return False


def describe_error(message: str) -> str:
    """msgspec's validation message, reworded to name the argument."""
    missing = _MISSING_FIELD.match(message)
    if missing is not None:
        return f"No data for argument: {missing.group(1)}"
    at = _AT.match(message)
    if at is None:
        return f"Invalid params: {message}"
    detail, where = at.groups()
    path = where.lstrip(".")
    if not path or path.startswith("["):
        return f"Invalid params: {detail}"
    detail = detail[:1].lower() + detail[1:]
    for pattern, words in _PATTERN_WORDS.items():
        detail = detail.replace(f"`str` matching regex {pattern!r}", words)
    return f"Invalid argument [{path}]: {detail}"
