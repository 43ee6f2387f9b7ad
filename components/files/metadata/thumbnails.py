"""Embedded thumbnail extraction.

Slicers embed base64 images between comment markers::

    ; thumbnail begin 300x300 12345        (PNG)
    ; thumbnail_JPG begin 300x300 12345    (JPEG)
    ; thumbnail_QOI begin 300x300 12345    (QOI)
    ; iVBORw0KGgo...
    ; thumbnail end

``12345`` is the length of the base64 text.  Like Moonraker, images are
written to ``.thumbs/<stem>-<W>x<H>.<ext>`` next to the G-code file (QOI is
converted to PNG, JPEG is kept as ``.jpg``) and a ``<stem>-32x32.png``
miniature is generated when the slicer did not provide a 32x32 image.  A
``.thumbs/<stem>.png`` left by a UFP upload is reported when the file has
no embedded thumbnails.  Files are rewritten only when missing or stale.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

from .images import (
    ImageError,
    RGBAImage,
    decode_png,
    decode_qoi,
    downscale,
    encode_png,
    png_size,
    thumbnail_size,
)

__all__ = [
    "THUMB_DIR",
    "ThumbnailBlock",
    "ThumbnailInfo",
    "find_thumbnail_blocks",
    "write_thumbnails",
]

log = logging.getLogger(__name__)

THUMB_DIR = ".thumbs"
MINIATURE = 32

_BEGIN = re.compile(
    rb"; (thumbnail(?:_([A-Za-z0-9]+))?) begin[ \t]+(\d+)[ \t]*[xX \t][ \t]*(\d+)[ \t]+(\d+)"
)
_FORMATS = {b"": "png", b"png": "png", b"jpg": "jpg", b"jpeg": "jpg", b"qoi": "qoi"}
# Output extension per embedded format (QOI is converted, as Moonraker does).
_OUTPUT_EXT = {"png": "png", "jpg": "jpg", "qoi": "png"}
_STRIP = b"; \t\r\n"


class ThumbnailInfo(TypedDict):
    width: int
    height: int
    size: int
    relative_path: str


@dataclass(frozen=True, slots=True)
class ThumbnailBlock:
    fmt: str  # "png" | "jpg" | "qoi"
    width: int
    height: int
    data: bytes  # decoded image file contents


def find_thumbnail_blocks(data: bytes) -> list[ThumbnailBlock]:
    """All well-formed thumbnail blocks in ``data`` (bad ones are skipped)."""
    blocks: list[ThumbnailBlock] = []
    pos = 0
    while True:
        m = _BEGIN.search(data, pos)
        if m is None:
            break
        pos = m.end()
        fmt = _FORMATS.get((m.group(2) or b"").lower())
        end_marker = b"; " + m.group(1) + b" end"
        end = data.find(end_marker, pos)
        if end < 0:
            continue
        next_begin = _BEGIN.search(data, pos, end)
        if next_begin is not None:
            # Unterminated block followed by another one: resume there.
            continue
        pos = end + len(end_marker)
        if fmt is None:
            log.debug("unsupported thumbnail format %r", m.group(1))
            continue
        width, height, length = int(m.group(3)), int(m.group(4)), int(m.group(5))
        eol = data.find(b"\n", m.end(), end)
        body = data[eol + 1 if eol >= 0 else m.end() : end].translate(None, _STRIP)
        if len(body) != length or width <= 0 or height <= 0:
            log.debug("thumbnail %dx%d: size mismatch (%d != %d)", width, height, len(body), length)
            continue
        try:
            image = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            continue
        if image:
            blocks.append(ThumbnailBlock(fmt, width, height, image))
    return blocks


def _is_fresh(path: Path, min_mtime_ns: int, size: int | None = None) -> os.stat_result | None:
    try:
        st = path.stat()
    except OSError:
        return None
    if st.st_size <= 0 or st.st_mtime_ns < min_mtime_ns:
        return None
    if size is not None and st.st_size != size:
        return None
    return st


def _atomic_write(dest: Path, data: bytes) -> None:
    dest.parent.mkdir(exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _decode_rgba(fmt: str, data: bytes) -> RGBAImage | None:
    try:
        if fmt == "png":
            return decode_png(data)
        if fmt == "qoi":
            return decode_qoi(data)
    except (ImageError, IndexError, ValueError) as exc:
        log.debug("cannot decode %s thumbnail: %s", fmt, exc)
    return None


def _entry(width: int, height: int, size: int, name: str) -> ThumbnailInfo:
    return {"width": width, "height": height, "size": size, "relative_path": f"{THUMB_DIR}/{name}"}


def write_thumbnails(
    blocks: Iterable[ThumbnailBlock],
    gcode_path: Path,
    gcode_mtime_ns: int,
    *,
    make_miniature: bool = True,
) -> list[ThumbnailInfo]:
    """Write ``blocks`` beside ``gcode_path`` and describe them like Moonraker.

    Never raises for I/O or image errors; failed images are left out.
    """
    thumb_dir = gcode_path.parent / THUMB_DIR
    stem = gcode_path.stem
    entries: list[ThumbnailInfo] = []
    # name -> (format, image bytes) of what was listed, for the miniature
    sources: dict[str, tuple[str, bytes]] = {}
    for block in blocks:
        name = f"{stem}-{block.width}x{block.height}.{_OUTPUT_EXT[block.fmt]}"
        if name in sources:
            continue
        dest = thumb_dir / name
        try:
            if block.fmt == "qoi":
                st = _is_fresh(dest, gcode_mtime_ns)
                if st is None:
                    image = _decode_rgba("qoi", block.data)
                    if image is None:
                        continue
                    _atomic_write(dest, encode_png(*image))
            else:
                st = _is_fresh(dest, gcode_mtime_ns, len(block.data))
                if st is None:
                    _atomic_write(dest, block.data)
            size = dest.stat().st_size
        except OSError as exc:
            log.info("cannot write thumbnail %s: %s", dest, exc)
            continue
        entries.append(_entry(block.width, block.height, size, name))
        sources[name] = (block.fmt, block.data)

    if not entries:
        ufp_thumb = thumb_dir / f"{stem}.png"
        try:
            data = ufp_thumb.read_bytes()
        except OSError:
            return []
        dims = png_size(data)
        if dims is None:
            return []
        entries.append(_entry(dims[0], dims[1], len(data), ufp_thumb.name))
        sources[ufp_thumb.name] = ("png", data)

    if make_miniature and not any(
        e["width"] == MINIATURE and e["height"] == MINIATURE for e in entries
    ):
        mini = _miniature(entries, sources, thumb_dir, stem, gcode_mtime_ns)
        if mini is not None:
            entries.insert(0, mini)
    return entries


def _miniature(
    entries: list[ThumbnailInfo],
    sources: dict[str, tuple[str, bytes]],
    thumb_dir: Path,
    stem: str,
    gcode_mtime_ns: int,
) -> ThumbnailInfo | None:
    name = f"{stem}-{MINIATURE}x{MINIATURE}.png"
    dest = thumb_dir / name
    candidates = [
        e for e in entries if sources[e["relative_path"].rpartition("/")[2]][0] in ("png", "qoi")
    ]
    if not candidates:
        return None  # JPEG-only: no decoder, no miniature
    # the smallest image that is still at least 32x32: decoding in pure Python costs
    # in proportion to the pixels
    big_enough = [e for e in candidates
                  if e["width"] >= MINIATURE and e["height"] >= MINIATURE]
    source = (min(big_enough, key=lambda e: e["width"] * e["height"]) if big_enough
              else max(candidates, key=lambda e: e["width"] * e["height"]))
    st = _is_fresh(dest, gcode_mtime_ns)
    try:
        if st is not None:
            with open(dest, "rb") as f:
                dims = png_size(f.read(32))
            if dims is not None:
                return _entry(dims[0], dims[1], st.st_size, name)
        fmt, data = sources[source["relative_path"].rpartition("/")[2]]
        image = _decode_rgba(fmt, data)
        if image is None:
            return None
        w, h = thumbnail_size(image[0], image[1], MINIATURE)
        small = downscale(image, w, h)
        encoded = encode_png(*small)
        _atomic_write(dest, encoded)
    except OSError as exc:
        log.info("cannot write thumbnail %s: %s", dest, exc)
        return None
    return _entry(small[0], small[1], len(encoded), name)


def needs_miniature(thumbnails: list[ThumbnailInfo]) -> bool:
    return bool(thumbnails) and not any(
        t["width"] == MINIATURE and t["height"] == MINIATURE for t in thumbnails
    )


def add_miniature(
    gcode_path: Path, thumbnails: list[ThumbnailInfo], gcode_mtime_ns: int
) -> ThumbnailInfo | None:
    """Make the 32x32 miniature for thumbnails already written beside `gcode_path`
    (PNG ones; a JPEG-only file gets none). Never raises for I/O or image errors."""
    thumb_dir = gcode_path.parent / THUMB_DIR
    sources: dict[str, tuple[str, bytes]] = {}
    listed: list[ThumbnailInfo] = []
    for thumb in thumbnails:
        name = thumb["relative_path"].rpartition("/")[2]
        if not name.endswith(".png"):
            continue
        try:
            sources[name] = ("png", (thumb_dir / name).read_bytes())
        except OSError:
            continue
        listed.append(thumb)
    if not listed:
        return None
    return _miniature(listed, sources, thumb_dir, gcode_path.stem, gcode_mtime_ns)
