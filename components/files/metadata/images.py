"""Minimal pure-Python image codecs for thumbnails.

* PNG: encoder (8-bit RGBA), size probe, and a decoder for the
  non-interlaced 8-bit images slicers emit (grey, grey+alpha, RGB, RGBA,
  palette).
* QOI: decoder (https://qoiformat.org/qoi-specification.pdf).
* Box-filter downscaling for the 32x32 "miniature".

All decoders raise ``ImageError`` on malformed or oversized input.
"""

from __future__ import annotations

import struct
import zlib
from functools import lru_cache

__all__ = [
    "MAX_PIXELS",
    "ImageError",
    "RGBAImage",
    "decode_png",
    "decode_qoi",
    "downscale",
    "encode_png",
    "png_size",
    "thumbnail_size",
]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
QOI_MAGIC = b"qoif"
MAX_PIXELS = 4096 * 4096  # thumbnails are small; refuse anything absurd

RGBAImage = tuple[int, int, bytes]  # width, height, RGBA8 pixels


class ImageError(ValueError):
    pass


# --- PNG -----------------------------------------------------------------------------


def _chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def encode_png(width: int, height: int, rgba: bytes, level: int = 6) -> bytes:
    """Encode 8-bit RGBA pixels as a PNG (filter type 0 on every row)."""
    stride = width * 4
    if width <= 0 or height <= 0 or len(rgba) != stride * height:
        raise ImageError("pixel buffer does not match the image size")
    raw = bytearray()
    for y in range(height):
        raw.append(0)
        raw += rgba[y * stride : (y + 1) * stride]
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        PNG_SIGNATURE
        + _chunk(b"IHDR", ihdr)
        + _chunk(b"IDAT", zlib.compress(bytes(raw), level))
        + _chunk(b"IEND", b"")
    )


def png_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from the IHDR chunk, or None if ``data`` is not a PNG."""
    if len(data) < 24 or not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


@lru_cache(maxsize=32)
def _swar_masks(length: int) -> tuple[int, int]:
    return int.from_bytes(b"\x7f" * length, "big"), int.from_bytes(b"\x80" * length, "big")


def _add_rows(a: bytes | bytearray, b: bytes | bytearray) -> bytearray:
    """Byte-wise (a + b) mod 256 using one big-integer operation."""
    n = len(a)
    low, high = _swar_masks(n)
    x = int.from_bytes(a, "big")
    y = int.from_bytes(b, "big")
    s = ((x & low) + (y & low)) ^ ((x ^ y) & high)
    return bytearray(s.to_bytes(n, "big"))


def _unfilter(raw: bytes, width: int, height: int, bpp: int) -> bytearray:
    stride = width * bpp
    if len(raw) < (stride + 1) * height:
        raise ImageError("truncated PNG image data")
    out = bytearray()
    prev = bytearray(stride)
    pos = 0
    for _ in range(height):
        ftype = raw[pos]
        line = bytearray(raw[pos + 1 : pos + 1 + stride])
        pos += stride + 1
        if ftype == 1:  # Sub
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif ftype == 2:  # Up
            line = _add_rows(line, prev)
        elif ftype == 3:  # Average
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xFF
        elif ftype == 4:  # Paeth
            for i in range(stride):
                if i >= bpp:
                    a = line[i - bpp]
                    c = prev[i - bpp]
                else:
                    a = c = 0
                b = prev[i]
                p = a + b - c
                pa = abs(p - a)
                pb = abs(p - b)
                pc = abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 0xFF
        elif ftype != 0:
            raise ImageError(f"bad PNG filter type {ftype}")
        out += line
        prev = line
    return out


def _expand(pixels: bytearray, channels: int, count: int) -> bytes:
    """Grey / grey+alpha / RGB samples to RGBA."""
    if channels == 4:
        return bytes(pixels)
    rgba = bytearray(count * 4)
    if channels == 3:
        rgba[0::4] = pixels[0::3]
        rgba[1::4] = pixels[1::3]
        rgba[2::4] = pixels[2::3]
        rgba[3::4] = b"\xff" * count
    elif channels == 2:
        grey = pixels[0::2]
        rgba[0::4] = grey
        rgba[1::4] = grey
        rgba[2::4] = grey
        rgba[3::4] = pixels[1::2]
    else:
        rgba[0::4] = pixels
        rgba[1::4] = pixels
        rgba[2::4] = pixels
        rgba[3::4] = b"\xff" * count
    return bytes(rgba)


def decode_png(data: bytes) -> RGBAImage:
    """Decode an 8-bit, non-interlaced PNG to RGBA."""
    size = png_size(data)
    if size is None:
        raise ImageError("not a PNG")
    width, height = size
    if width <= 0 or height <= 0 or width * height > MAX_PIXELS:
        raise ImageError("unsupported PNG dimensions")
    depth, ctype, _comp, _filt, interlace = data[24:29]
    if depth != 8 or interlace != 0 or ctype not in (0, 2, 3, 4, 6):
        raise ImageError("unsupported PNG format")
    idat = bytearray()
    palette = b""
    trns = b""
    pos = 8
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        payload = data[pos + 8 : pos + 8 + length]
        if len(payload) != length:
            raise ImageError("truncated PNG chunk")
        if kind == b"IDAT":
            idat += payload
        elif kind == b"PLTE":
            palette = payload
        elif kind == b"tRNS":
            trns = payload
        elif kind == b"IEND":
            break
        pos += 12 + length
    try:
        raw = zlib.decompress(bytes(idat))
    except zlib.error as exc:
        raise ImageError(f"bad PNG data: {exc}") from None
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[ctype]
    pixels = _unfilter(raw, width, height, channels)
    count = width * height
    if ctype != 3:
        return width, height, _expand(pixels, channels, count)
    if not palette or len(palette) % 3:
        raise ImageError("PNG palette missing")
    entries = len(palette) // 3
    alpha = trns[:entries] + b"\xff" * (256 - min(len(trns), entries))
    tables = [
        bytes(palette[i * 3 + ch] if i < entries else 0 for i in range(256)) for ch in range(3)
    ]
    rgba = bytearray(count * 4)
    for ch in range(3):
        rgba[ch::4] = pixels.translate(tables[ch])
    rgba[3::4] = pixels.translate(alpha)
    return width, height, bytes(rgba)


# --- QOI -----------------------------------------------------------------------------


def decode_qoi(data: bytes) -> RGBAImage:
    """Decode a QOI image to RGBA."""
    if len(data) < 14 + 8 or not data.startswith(QOI_MAGIC):
        raise ImageError("not a QOI image")
    width, height, channels, _colorspace = struct.unpack(">IIBB", data[4:14])
    if width <= 0 or height <= 0 or width * height > MAX_PIXELS or channels not in (3, 4):
        raise ImageError("unsupported QOI header")
    total = width * height
    out = bytearray(total * 4)
    index = [(0, 0, 0, 0)] * 64
    r = g = b = 0
    a = 255
    pos = 14
    end = len(data) - 8  # 7x 0x00 + 0x01 end marker
    px = 0
    run = 0
    while px < total:
        if run:
            run -= 1
        elif pos < end:
            op = data[pos]
            pos += 1
            if op == 0xFE:
                r, g, b = data[pos], data[pos + 1], data[pos + 2]
                pos += 3
            elif op == 0xFF:
                r, g, b, a = data[pos], data[pos + 1], data[pos + 2], data[pos + 3]
                pos += 4
            else:
                tag = op >> 6
                if tag == 0:
                    r, g, b, a = index[op]
                elif tag == 1:
                    r = (r + ((op >> 4) & 3) - 2) & 0xFF
                    g = (g + ((op >> 2) & 3) - 2) & 0xFF
                    b = (b + (op & 3) - 2) & 0xFF
                elif tag == 2:
                    dg = (op & 0x3F) - 32
                    nxt = data[pos]
                    pos += 1
                    r = (r + dg + (nxt >> 4) - 8) & 0xFF
                    g = (g + dg) & 0xFF
                    b = (b + dg + (nxt & 0x0F) - 8) & 0xFF
                else:
                    run = op & 0x3F
            index[(r * 3 + g * 5 + b * 7 + a * 11) % 64] = (r, g, b, a)
        else:
            raise ImageError("truncated QOI data")
        o = px * 4
        out[o] = r
        out[o + 1] = g
        out[o + 2] = b
        out[o + 3] = a
        px += 1
    return width, height, bytes(out)


# --- scaling -------------------------------------------------------------------------


def thumbnail_size(width: int, height: int, box: int) -> tuple[int, int]:
    """Fit (width, height) inside a box x box square keeping the aspect ratio.

    Never upscales.
    """
    if width <= box and height <= box:
        return width, height
    if width >= height:
        return box, max(1, round(height * box / width))
    return max(1, round(width * box / height)), box


def downscale(image: RGBAImage, new_w: int, new_h: int) -> RGBAImage:
    """Area-average (box filter) resize; colours are alpha-weighted."""
    width, height, rgba = image
    if (new_w, new_h) == (width, height):
        return image
    out = bytearray(new_w * new_h * 4)
    stride = width * 4
    xs = [
        (x * width // new_w, max((x + 1) * width // new_w, x * width // new_w + 1))
        for x in range(new_w)
    ]
    for oy in range(new_h):
        y0 = oy * height // new_h
        y1 = max((oy + 1) * height // new_h, y0 + 1)
        rows = [rgba[y * stride : (y + 1) * stride] for y in range(y0, y1)]
        for ox, (x0, x1) in enumerate(xs):
            sr = sg = sb = sa = 0
            n = 0
            for row in rows:
                seg = row[x0 * 4 : x1 * 4]
                alphas = seg[3::4]
                sa += sum(alphas)
                sr += sum(map(int.__mul__, seg[0::4], alphas))
                sg += sum(map(int.__mul__, seg[1::4], alphas))
                sb += sum(map(int.__mul__, seg[2::4], alphas))
                n += len(alphas)
            o = (oy * new_w + ox) * 4
            if sa:
                out[o] = min(255, round(sr / sa))
                out[o + 1] = min(255, round(sg / sa))
                out[o + 2] = min(255, round(sb / sa))
            out[o + 3] = round(sa / n) if n else 0
    return new_w, new_h, bytes(out)
