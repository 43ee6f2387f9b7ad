"""What the files component needs to cache metadata in the database.

Metadata is a pure function of the file's identity and contents; contents
are approximated - as Moonraker does - by size and modification time (here
in nanoseconds), plus ``PARSER_VERSION`` so that a parser upgrade
invalidates old entries.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PARSER_VERSION", "CacheKey", "cache_key", "is_current"]

# Bump whenever extraction output changes for the same input.
PARSER_VERSION = 1


@dataclass(frozen=True, slots=True)
class CacheKey:
    relative_path: str
    size: int
    mtime_ns: int
    parser_version: int = PARSER_VERSION

    @property
    def token(self) -> str:
        """Validity token (independent of the path), e.g. ``"1:314990:1795275786803175000"``."""
        return f"{self.parser_version}:{self.size}:{self.mtime_ns}"

    def __str__(self) -> str:
        return f"{self.relative_path}|{self.token}"

    @classmethod
    def from_stat(cls, relative_path: str, st: os.stat_result) -> CacheKey:
        return cls(relative_path, st.st_size, st.st_mtime_ns)


def cache_key(path: Path, relative_path: str, st: os.stat_result | None = None) -> CacheKey:
    """Key for ``path`` as it is now (``st`` avoids a second stat).

    Raises ``OSError`` if the file cannot be stat'ed.
    """
    return CacheKey.from_stat(relative_path, st if st is not None else os.stat(path))


def is_current(metadata: Mapping[str, object], st: os.stat_result) -> bool:
    """True if cached ``metadata`` still describes a file with stat ``st``.

    Uses the ``size``/``modified`` fields every metadata dict carries (the
    same test Moonraker applies), so entries need no extra bookkeeping.
    """
    return metadata.get("size") == st.st_size and metadata.get("modified") == st.st_mtime
