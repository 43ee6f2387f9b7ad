"""Variables in the between-prints scripts.

`{external.NAME}` (dotted for nested objects: `{external.bed.temp}`) is replaced by the
value posted to Continuous Print's `automation/external`. Other braces are left as they
are (G-code and macros may use them). A variable that is not there is an error: a
script must never run half filled in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_VARIABLE = re.compile(r"\{\s*(external(?:\.[A-Za-z0-9_\-]+)+)\s*\}")


class ScriptError(Exception):
    pass


def _format(value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def render(script: str, external: Mapping[str, object]) -> str:
    def lookup(match: re.Match[str]) -> str:
        name = match.group(1)
        value: object = external
        for part in name.split(".")[1:]:
            if not isinstance(value, Mapping) or part not in value:
                raise ScriptError(f"unknown variable {name}")
            value = value[part]
        if isinstance(value, (Mapping, list)):
            raise ScriptError(f"variable {name} is not a single value")
        return _format(value)

    return _VARIABLE.sub(lookup, script)
