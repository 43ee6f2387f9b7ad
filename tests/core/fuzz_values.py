"""Hostile argument values for the fuzz test, drawn from each row's declaration: values of
the right type that a handler must still survive (empty, huge, traversal, control
characters, extremes) and values of every wrong type (null, nested, NaN texts)."""

from __future__ import annotations

import random
from typing import Any

import msgspec.inspect as mi

from gateway.registry import Endpoint

NESTED = [[[[[[[[[[[[[[[[[[[[0]]]]]]]]]]]]]]]]]]]]
TEXTS = ["", " ", "../../../../etc/passwd", "gcodes/../../x", "/", "\x00", "a\nb\rc",
         "\u2028", "é" * 200, "a" * 5000, "nan", "-inf", "1e999", "true", "null", "{",
         "%00", "gcodes/" + "d/" * 60, "config/moonraker.conf", "~root", "C:\\x"]
INTS = [0, -1, 1, 2**31, 2**63 - 1, -(2**63), 10**30]
FLOATS = [0.0, -1.0, 1e300, -1e300, 5e-324]
WRONG = [None, True, False, 0, -1, 1.5, 10**30, "", "x", [], {}, [None], {"a": None},
         NESTED, "nan", "inf", [[], {}], {"": {}}]


def typed(tp: mi.Type, rnd: random.Random, depth: int = 0) -> Any:
    """A value of type `tp` (within or at the edge of its constraints), hostile inside."""
    if isinstance(tp, mi.Metadata):
        return typed(tp.type, rnd, depth)
    if isinstance(tp, mi.UnionType):
        return typed(rnd.choice(tp.types), rnd, depth)
    if isinstance(tp, mi.StrType):
        if tp.max_length is not None and rnd.random() < 0.5:
            return "a" * tp.max_length
        return rnd.choice(TEXTS)
    if isinstance(tp, mi.BoolType):
        return rnd.random() < 0.5
    if isinstance(tp, mi.IntType):
        bounds = [b for b in (tp.ge, tp.le, tp.gt, tp.lt) if b is not None]
        return rnd.choice(INTS + bounds)
    if isinstance(tp, mi.FloatType):
        return rnd.choice(FLOATS)
    if isinstance(tp, mi.LiteralType):
        return rnd.choice(tp.values)
    if isinstance(tp, (mi.ListType, mi.SetType, mi.FrozenSetType, mi.VarTupleType)):
        if depth > 2:
            return []
        count = rnd.choice([0, 1, 3, 200])
        return [typed(tp.item_type, rnd, depth + 1) for _ in range(count)]
    if isinstance(tp, mi.DictType):
        if depth > 2:
            return {}
        return {rnd.choice(TEXTS[:6]): typed(tp.value_type, rnd, depth + 1)
                for _ in range(rnd.choice([0, 1, 3]))}
    if isinstance(tp, mi.NoneType):
        return None
    if isinstance(tp, mi.StructType):
        return {f.encode_name: typed(f.type, rnd, depth + 1) for f in tp.fields}
    return rnd.choice(WRONG)


def fields(endpoint: Endpoint) -> list[tuple[str, mi.Type]]:
    """(wire name, type) of every declared argument (all members of a tagged union)."""
    spec = endpoint.params
    if spec is None:
        return []
    info = mi.type_info(spec.type)
    structs = info.types if isinstance(info, mi.UnionType) else (info,)
    out: dict[str, mi.Type] = {}
    for struct in structs:
        if isinstance(struct, mi.StructType):
            if struct.tag_field is not None:
                out.setdefault(struct.tag_field, mi.LiteralType(
                    tuple(s.tag for s in structs if isinstance(s, mi.StructType))))
            for f in struct.fields:
                out.setdefault(f.encode_name, f.type)
    return list(out.items())


def argument_sets(endpoint: Endpoint, rnd: random.Random, count: int) -> list[dict[str, Any]]:
    """`count` hostile argument dicts for a row: each declared argument alone with a wrong
    type, then mixes of right-typed hostile values and wrong ones."""
    declared = fields(endpoint)
    sets: list[dict[str, Any]] = [{}, {"junk": NESTED, "access_token": 5, "api_key": None}]
    for name, _ in declared:
        sets.append({name: rnd.choice(WRONG)})
    while len(sets) < count + len(declared):
        args: dict[str, Any] = {}
        for name, tp in declared:
            roll = rnd.random()
            if roll < 0.7:
                args[name] = typed(tp, rnd)
            elif roll < 0.85:
                args[name] = rnd.choice(WRONG)
        sets.append(args)
    return sets


def as_query_value(value: Any) -> str:
    """How an HTTP client would put a value in a query string or form."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(as_query_value(v) for v in value)
    if value is None:
        return ""
    return str(value)
