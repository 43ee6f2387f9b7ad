"""What separates the lines of a G-code script, and which characters are refused.

Only `\\n` and `\\r\\n` end a line. Python's `str.splitlines()` also breaks on `\\v`, `\\f`,
`\\x1c`-`\\x1e`, `\\x85`, `\\u2028` and `\\u2029`, and the firmware ends a line at a lone `\\r`:
a bridge that builds a one-line command from untrusted text (a file name, a chat
message) could be made to send a second command through any of them. So every other
control character (C0 but tab, DEL, C1, the Unicode line and paragraph separators, and
a `\\r` not followed by `\\n`) is refused with a message naming it and where it is.

Every place that turns API text into firmware lines calls `script_lines` (or
`single_line` where exactly one command is expected); `InvalidParams` answers HTTP 400
and JSON-RPC -32602.
"""

from __future__ import annotations

import re

from gateway.errors import InvalidParams

# tab is ordinary whitespace in G-code; "\r\n" is one line break; every other control
# character, and the Unicode line/paragraph separators, are refused
_REFUSED = re.compile(r"[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]|\r(?!\n)")
# in names, no control character at all (tab and line breaks included)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def refused_character(text: str) -> str | None:
    """Why `text` may not be G-code (the first refused character and its offset), or
    None when it is fine."""
    match = _REFUSED.search(text)
    if match is None:
        return None
    char = match.group()
    if char == "\r":
        what = "a lone carriage return (\\r)"
    else:
        what = f"control character U+{ord(char):04X}"
    return f"{what} at offset {match.start()}"


def script_lines(script: str) -> list[str]:
    """The lines of a script, split on `\\n` and `\\r\\n` only (raw: not stripped, comments
    kept). Raises InvalidParams for any other control character."""
    problem = refused_character(script)
    if problem is not None:
        raise InvalidParams(
            f"Invalid G-code script: {problem}; only \\n or \\r\\n may separate lines"
        )
    return script.replace("\r\n", "\n").split("\n")


def single_line(command: str, what: str = "command") -> str:
    """`command` when it is exactly one line (no line break, no refused character)."""
    if "\n" in command or "\r" in command:
        raise InvalidParams(
            f"Invalid {what}: it contains a line break; send several commands as a list"
        )
    problem = refused_character(command)
    if problem is not None:
        raise InvalidParams(f"Invalid {what}: {problem}")
    return command


def check_name(name: str, what: str = "file name") -> None:
    """Refuse a name (a file or folder being created) that holds a control character."""
    match = _CONTROL.search(name)
    if match is not None:
        char = match.group()
        what_char = "a NUL byte" if char == "\x00" else f"U+{ord(char):04X}"
        raise InvalidParams(
            f"Invalid {what} {name!r}: control character {what_char} is not allowed"
        )
