"""Firmware lines that fit the firmware's line buffer.

Marlin keeps at most MAX_CMD_SIZE - 1 bytes of a line (`[serial] max_command_size`),
its line number and checksum included, and cuts the rest: the cut line fails its
checksum and is refused every time it is sent. So a command longer than the room it has
(`HostLink.command_room`: the buffer less a 10-digit line number and the checksum, 79
bytes by default, counted in UTF-8) never goes to the printer.

* Scripts (console, API, macros): such a line is refused before anything of the script
  runs: HTTP 400 / JSON-RPC -32602 naming the limit (`check_line`).
* Print files: a file is refused at start if a line cannot be made to fit
  (`scan_file`, about 0.2 s of CPU for a 58 MB file); as it is sent, runs of spaces
  inside a line are squeezed to one and an M117/M118 message (text for a display or the
  host, not an instruction) is shortened to fit (`fit_print_line`). A line the host
  lengthens past the limit (an added offset) ends the print with that error before the
  line is sent.
"""

from __future__ import annotations

import re
from pathlib import Path

from components.printer.job_reader import strip_line
from components.printer.params import command_word, is_traditional
from gateway.errors import InvalidParams
from gateway.hostlink.protocol import FRAMING_RESERVE

# commands whose argument is free text: shortened to fit in a print file
TEXT_COMMANDS = frozenset({"M117", "M118"})
# commands whose argument is a name or text where spaces matter: never squeezed
_VERBATIM = TEXT_COMMANDS | {"M23", "M28", "M30", "M32", "M33", "M928"}
_SPACES = re.compile(r"[ \t]{2,}")
_CHUNK = 1 << 20


class LineTooLong(InvalidParams):
    """A firmware line the firmware could not take (400 / -32602)."""


def check_line(line: str, room: int) -> str:
    """`line` if it fits in `room` bytes, else LineTooLong naming the limit."""
    size = len(line.encode())
    if size > room:
        raise LineTooLong(_message(line, size, room))
    return line


def fit_print_line(line: str, room: int) -> str:
    """A print file's line made to fit: spaces squeezed, an M117/M118 message shortened;
    LineTooLong when neither is enough."""
    data = line.encode()
    if len(data) <= room:
        return line
    word = command_word(line)
    if word in TEXT_COMMANDS:
        # a multi-byte character cut in two is dropped whole
        return data[:room].decode("utf-8", "ignore").rstrip()
    if word not in _VERBATIM:
        squeezed = _SPACES.sub(" ", line)
        if len(squeezed.encode()) <= room:
            return squeezed
    raise LineTooLong(_message(line, len(data), room))


def scan_file(path: Path, room: int, start: int = 0) -> None:
    """Refuse (LineTooLong, naming the line number) a print file with a firmware
    command that cannot be made to fit; extended commands (run by the host, never sent)
    may be long. Read in 1 MiB chunks, each split into lines in C: only a chunk whose
    longest line is longer than `room` bytes is looked at line by line (comment and
    surrounding spaces dropped), so a 58 MB file costs about 0.2 s of CPU."""
    number = 0  # lines (from `start`) before the current chunk
    pending = b""
    with open(path, "rb") as f:
        f.seek(start)
        while True:
            chunk = f.read(_CHUNK)
            lines = (pending + chunk).split(b"\n")
            pending = lines.pop() if chunk else b""
            if lines and max(map(len, lines)) > room:
                for index, raw in enumerate(lines):
                    if len(raw) > room:
                        _check_raw(raw, room, number + index + 1)
            number += len(lines)
            if not chunk:
                break


def _check_raw(raw: bytes, room: int, number: int) -> None:
    command = strip_line(raw)
    if not command or not is_traditional(command_word(command)):
        return
    try:
        fit_print_line(command, room)
    except LineTooLong as exc:
        raise LineTooLong(f"{exc.message} (file line {number})") from None


def _message(line: str, size: int, room: int) -> str:
    head = line if len(line) <= 40 else f"{line[:40]}..."
    return (
        f"G-code line too long for the firmware: {size} bytes, at most {room} "
        f"([serial] max_command_size {room + 1 + FRAMING_RESERVE} less the line number "
        f"and checksum): {head}"
    )
