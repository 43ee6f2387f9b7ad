"""MeatPack: the G-code packing Marlin (``feature/meatpack``) and Prusa firmware decode.

Learnt from the protocol's description; the encoder is ours.

* The 15 most common G-code characters get a 4-bit code: ``0``-``9`` (0-9), ``.`` (10),
  space (11), newline (12), ``G`` (13), ``X`` (14). In "no spaces" mode code 11 means
  ``E`` instead and spaces are left out where the firmware does not need them.
* Two characters share a byte: the first in the low nibble, the second in the high one.
  Code 15 in a nibble means "this character follows as a whole byte"; when both are
  whole bytes they follow in order (first, then second).
* A newline in the low nibble ends the byte: its high nibble is ignored, so every line
  starts on a byte boundary.
* ``0xFF 0xFF <cmd>`` is a command to the decoder, recognised anywhere in the stream:
  0xFB packing on, 0xFA off, 0xF9 reset, 0xF8 report, 0xF7 no spaces on, 0xF6 off.
  The firmware answers each with ``[MP] PV01 ON|OFF NSP|ESP``.

Line numbers and checksums are those of the unpacked text, so resends and errors work
as without packing. The firmware's receive buffer holds the packed bytes.
"""

from __future__ import annotations

ENABLE = b"\xff\xff\xfb"
DISABLE = b"\xff\xff\xfa"
RESET = b"\xff\xff\xf9"
QUERY = b"\xff\xff\xf8"
NO_SPACES_ON = b"\xff\xff\xf7"
NO_SPACES_OFF = b"\xff\xff\xf6"

_LITERAL = 15
_ALPHABET = b"0123456789. \nGX"
_ALPHABET_NO_SPACES = b"0123456789.E\nGX"

# Commands whose words are letter+number pairs only: Marlin's parser reads them without
# separating spaces. Everything else keeps its spaces (text arguments, odd syntaxes).
_SQUEEZABLE = frozenset({"G0", "G1", "G2", "G3", "G92"})


def _codes(alphabet: bytes) -> bytes:
    table = bytearray([_LITERAL]) * 256
    for code, char in enumerate(alphabet):
        table[char] = code
    return bytes(table)


def _pairs(codes: bytes) -> dict[bytes, bytes]:
    """Every two-character chunk of printable ASCII (and newline) -> its packed bytes."""
    chars = [*range(0x20, 0x7F), 0x0A]
    table: dict[bytes, bytes] = {}
    for a in chars:
        for b in chars:
            table[bytes((a, b))] = _pack_pair(codes, a, b)
    return table


def _pack_pair(codes: bytes, a: int, b: int) -> bytes:
    ca, cb = codes[a], codes[b]
    if ca == 12:  # a newline ends the byte; the high nibble is padding
        return bytes((12,))
    head = bytes((ca | cb << 4,))
    if ca == _LITERAL and cb == _LITERAL:
        return head + bytes((a, b))
    if ca == _LITERAL:
        return head + bytes((a,))
    if cb == _LITERAL:
        return head + bytes((b,))
    return head


_CODES = (_codes(_ALPHABET), _codes(_ALPHABET_NO_SPACES))
_PAIRS: list[dict[bytes, bytes] | None] = [None, None]


def pack(line: bytes, no_spaces: bool) -> bytes:
    """The packed form of one line (ending in a newline)."""
    mode = int(no_spaces)
    pairs = _PAIRS[mode]
    if pairs is None:
        pairs = _PAIRS[mode] = _pairs(_CODES[mode])
    n = len(line)
    if n % 2:
        line += b"\n"  # the final newline lands in a low nibble: the pad is ignored
    get = pairs.get
    out = [get(line[i : i + 2]) for i in range(0, n, 2)]
    if None in out:  # a character outside printable ASCII
        codes = _CODES[mode]
        return b"".join(_pack_pair(codes, line[i], line[i + 1]) for i in range(0, n, 2))
    return b"".join(out)  # type: ignore[arg-type]


def squeeze(command: str, word: str) -> str:
    """``command`` without the spaces the firmware does not need in no-spaces mode."""
    if word in _SQUEEZABLE and " " in command:
        return command.replace(" ", "")
    return command
