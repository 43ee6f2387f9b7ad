"""Bounded reading of a G-code file: a head window and a tail window only.

Metadata lives in the comment header (slicer id, thumbnails, Bambu/Orca
config block) and in the footer (PrusaSlicer-family statistics and config
block).  The middle of the file - the actual tool paths - is never read.

The head window grows in chunks (up to ``MAX_HEAD_SIZE``) only while the
header is visibly unfinished: an open thumbnail block, an open
``HEADER_BLOCK``/``CONFIG_BLOCK``, or no G-code command seen yet.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

__all__ = [
    "HEAD_CHUNK",
    "HEAD_SIZE",
    "MAX_HEAD_SIZE",
    "TAIL_SIZE",
    "FileSlices",
    "Opener",
    "read_slices",
]

HEAD_SIZE = 256 * 1024
HEAD_CHUNK = 256 * 1024
MAX_HEAD_SIZE = 4 * 1024 * 1024
TAIL_SIZE = 512 * 1024

# An opener returns a binary, seekable file object.  Tests inject a
# counting wrapper to prove which byte ranges were read.
Opener = Callable[[Path], IO[bytes]]


def _default_opener(path: Path) -> IO[bytes]:
    return open(path, "rb")


@dataclass(frozen=True, slots=True)
class FileSlices:
    """The bytes read from a file.

    ``head`` covers ``[0, len(head))`` and ``tail`` covers
    ``[tail_offset, size)``.  When the whole file fits in the budget, both
    are the same object and ``tail_offset`` is 0 (``whole`` is True).
    """

    size: int
    head: bytes
    tail: bytes
    tail_offset: int

    @property
    def whole(self) -> bool:
        return self.tail is self.head


def _read_exact(f: IO[bytes], count: int) -> bytes:
    parts: list[bytes] = []
    remaining = count
    while remaining > 0:
        chunk = f.read(remaining)
        if not chunk:
            break
        parts.append(chunk)
        remaining -= len(chunk)
    return b"".join(parts)


def _has_command(data: bytes) -> bool:
    """True if some line of ``data`` starts with ``G<digit>``/``M<digit>``."""
    for marker in (b"\nG", b"\nM"):
        pos = data.find(marker)
        while pos >= 0:
            nxt = data[pos + 2 : pos + 3]
            if nxt.isdigit():
                return True
            pos = data.find(marker, pos + 2)
    return data[:1] in (b"G", b"M") and data[1:2].isdigit()


def _block_open(data: bytes, start: bytes, end: bytes) -> bool:
    pos = data.rfind(start)
    return pos >= 0 and data.find(end, pos) < 0


def _head_incomplete(head: bytes) -> bool:
    # Judge complete lines only: a window ending in "; thumbnail e" is still
    # inside its block.
    head = head[: head.rfind(b"\n") + 1]
    last = head.rfind(b"; thumbnail")
    if last >= 0:
        eol = head.find(b"\n", last)
        line = head[last : eol if eol >= 0 else len(head)]
        if b" begin" in line:
            return True
    if _block_open(head, b"; HEADER_BLOCK_START", b"; HEADER_BLOCK_END"):
        return True
    if _block_open(head, b"; CONFIG_BLOCK_START", b"; CONFIG_BLOCK_END"):
        return True
    if _block_open(head, b"; THUMBNAIL_BLOCK_START", b"; THUMBNAIL_BLOCK_END"):
        return True
    return not _has_command(head)


def read_slices(
    path: Path,
    *,
    opener: Opener | None = None,
    head_size: int = HEAD_SIZE,
    tail_size: int = TAIL_SIZE,
    max_head_size: int = MAX_HEAD_SIZE,
    head_chunk: int = HEAD_CHUNK,
) -> FileSlices:
    """Read the head and tail windows of ``path``.

    Raises ``OSError`` if the file cannot be opened or read.
    """
    open_fn = opener or _default_opener
    with open_fn(path) as f:
        size = f.seek(0, os.SEEK_END)
        f.seek(0)
        if size <= head_size + tail_size:
            data = _read_exact(f, size)
            return FileSlices(size=len(data), head=data, tail=data, tail_offset=0)
        head = _read_exact(f, head_size)
        limit = min(max_head_size, size)
        while len(head) < limit and _head_incomplete(head):
            more = _read_exact(f, min(head_chunk, limit - len(head)))
            if not more:
                break
            head += more
        tail_start = max(len(head), size - tail_size)
        if tail_start >= size:
            return FileSlices(size=len(head), head=head, tail=head, tail_offset=0)
        f.seek(tail_start)
        tail = _read_exact(f, size - tail_start)
        if tail_start == len(head):
            # Contiguous: the whole file has been read after all.
            whole = head + tail
            return FileSlices(size=len(whole), head=whole, tail=whole, tail_offset=0)
        return FileSlices(size=size, head=head, tail=tail, tail_offset=tail_start)
