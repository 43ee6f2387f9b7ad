"""Test-side image writers, independent of the code under test.

``make_png`` writes real PNGs with zlib, cycling through all five row
filters so the decoder's unfiltering is exercised.  ``make_qoi`` is a
straightforward QOI encoder.  ``gradient`` makes deterministic RGBA pixels.
"""

from __future__ import annotations

import base64
import struct
import zlib


def gradient(width: int, height: int, *, alpha: bool = True) -> bytes:
    px = bytearray()
    for y in range(height):
        for x in range(width):
            a = 255 if not alpha or (x + y) % 5 else 128
            px += bytes(((x * 255) // max(width - 1, 1), (y * 255) // max(height - 1, 1), 90, a))
    return bytes(px)


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def _filter_row(ftype: int, row: bytes, prev: bytes, bpp: int) -> bytes:
    out = bytearray(len(row))
    for i, x in enumerate(row):
        a = row[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        pred = (0, a, b, (a + b) >> 1, _paeth(a, b, c))[ftype]
        out[i] = (x - pred) & 0xFF
    return bytes(out)


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return (
        struct.pack(">I", len(payload))
        + kind
        + payload
        + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)
    )


def make_png(width: int, height: int, rgba: bytes, *, color_type: int = 6) -> bytes:
    """PNG from RGBA pixels; color_type 6 (RGBA) or 2 (RGB, alpha dropped)."""
    bpp = 4 if color_type == 6 else 3
    stride = width * bpp
    if color_type == 2:
        rgb = bytearray()
        for i in range(0, len(rgba), 4):
            rgb += rgba[i : i + 3]
        pixels = bytes(rgb)
    else:
        pixels = rgba
    raw = bytearray()
    prev = bytes(stride)
    for y in range(height):
        row = pixels[y * stride : (y + 1) * stride]
        ftype = y % 5
        raw.append(ftype)
        raw += _filter_row(ftype, row, prev, bpp)
        prev = row
    ihdr = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", ihdr)
        + _chunk(b"IDAT", zlib.compress(bytes(raw)))
        + _chunk(b"IEND", b"")
    )


def make_qoi(width: int, height: int, rgba: bytes) -> bytes:
    out = bytearray(b"qoif" + struct.pack(">IIBB", width, height, 4, 0))
    index = [(0, 0, 0, 0)] * 64
    prev = (0, 0, 0, 255)
    run = 0
    total = width * height
    for i in range(total):
        px = tuple(rgba[i * 4 : i * 4 + 4])
        if px == prev:
            run += 1
            if run == 62 or i == total - 1:
                out.append(0xC0 | (run - 1))
                run = 0
            continue
        if run:
            out.append(0xC0 | (run - 1))
            run = 0
        r, g, b, a = px
        h = (r * 3 + g * 5 + b * 7 + a * 11) % 64
        if index[h] == px:
            out.append(h)
        else:
            index[h] = (r, g, b, a)
            if a == prev[3]:
                dr = ((r - prev[0] + 128) & 0xFF) - 128
                dg = ((g - prev[1] + 128) & 0xFF) - 128
                db = ((b - prev[2] + 128) & 0xFF) - 128
                if -2 <= dr <= 1 and -2 <= dg <= 1 and -2 <= db <= 1:
                    out.append(0x40 | (dr + 2) << 4 | (dg + 2) << 2 | (db + 2))
                elif -32 <= dg <= 31 and -8 <= dr - dg <= 7 and -8 <= db - dg <= 7:
                    out.append(0x80 | (dg + 32))
                    out.append((dr - dg + 8) << 4 | (db - dg + 8))
                else:
                    out += bytes((0xFE, r, g, b))
            else:
                out += bytes((0xFF, r, g, b, a))
        prev = (r, g, b, a)
    out += b"\x00" * 7 + b"\x01"
    return bytes(out)


# A tiny JPEG-like payload: the extractor stores JPEGs verbatim.
FAKE_JPEG = (
    b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    + bytes(range(64))
    + b"\xff\xd9"
)


def thumbnail_block(image: bytes, width: int, height: int, tag: str = "thumbnail") -> str:
    """A slicer-style comment block, base64 wrapped at 78 characters."""
    b64 = base64.b64encode(image).decode()
    lines = [f"; {tag} begin {width}x{height} {len(b64)}"]
    lines += [f"; {b64[i : i + 78]}" for i in range(0, len(b64), 78)]
    lines.append(f"; {tag} end")
    return "\n".join(lines) + "\n"
