"""Line framing: ``N<n> <command>*<checksum>`` and G-code text clean-up."""

from __future__ import annotations

from functools import reduce
from operator import xor

# Bytes of a firmware line that are not the command: "N<line number> " (line numbers up
# to 10 digits, Marlin's 32-bit long) and "*<checksum>" (up to 3 digits).
FRAMING_RESERVE = len("N2147483647 ") + len("*255")


def command_room(max_command_size: int) -> int:
    """The most bytes (UTF-8) a command may take so that its framed line fits a firmware
    buffer of ``max_command_size`` (Marlin's MAX_CMD_SIZE, which keeps one byte for the
    terminating NUL) whatever its line number."""
    return max_command_size - 1 - FRAMING_RESERVE


def checksum(data: bytes) -> int:
    """Marlin's line checksum: the XOR of every byte before ``*``."""
    return reduce(xor, data, 0)


def frame(n: int, command: str) -> bytes:
    """The wire form of numbered line ``n`` (with newline)."""
    body = f"N{n} {command}".encode()
    return b"%s*%d\n" % (body, reduce(xor, body, 0))


def clean_command(line: str) -> str:
    """A G-code line as it should go on the wire: no ``;`` comment, no
    surrounding white space, no caller-supplied ``N``/checksum. Empty when
    nothing is left (blank or comment-only line)."""
    semi = line.find(";")
    if semi >= 0:
        line = line[:semi]
    line = line.strip()
    if not line:
        return line
    if line[0] in "Nn" and len(line) > 1 and (line[1].isdigit() or line[1] == "-"):
        # A caller-numbered line: we number lines ourselves.
        end = 2
        while end < len(line) and line[end].isdigit():
            end += 1
        line = line[end:].lstrip()
        star = line.rfind("*")
        if star >= 0:
            line = line[:star].rstrip()
    return line


def split_script(script: str) -> list[str]:
    """The non-empty cleaned commands of a (possibly multi-line) script."""
    out = []
    for raw in script.splitlines():
        cmd = clean_command(raw)
        if cmd:
            out.append(cmd)
    return out


def command_word(command: str) -> str:
    """``G1``/``M105``/``T0`` (upper case) of a cleaned command, else ''."""
    end = 1
    while end < len(command) and (command[end].isdigit() or command[end] == "."):
        end += 1
    word = command[:end].upper()
    return word if len(word) > 1 else ""
