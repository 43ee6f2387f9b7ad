"""In-process G-code metadata extraction (Moonraker ``server.files.metadata``).

Public API::

    extract_metadata(path, root_dir=None, relative_path=None, *, opener=None,
                     thumbnails=True, file_uuid=None) -> dict[str, object]
    cache_key(path, relative_path, st=None) -> CacheKey
    is_current(metadata, st) -> bool
"""

from __future__ import annotations

from .cache import PARSER_VERSION, CacheKey, cache_key, is_current
from .extract import extract_metadata, parse_gcode
from .reader import HEAD_SIZE, MAX_HEAD_SIZE, TAIL_SIZE, FileSlices, read_slices
from .thumbnails import THUMB_DIR, ThumbnailInfo, add_miniature, needs_miniature

__all__ = [
    "HEAD_SIZE",
    "MAX_HEAD_SIZE",
    "PARSER_VERSION",
    "TAIL_SIZE",
    "THUMB_DIR",
    "CacheKey",
    "FileSlices",
    "ThumbnailInfo",
    "add_miniature",
    "cache_key",
    "extract_metadata",
    "is_current",
    "needs_miniature",
    "parse_gcode",
    "read_slices",
]
