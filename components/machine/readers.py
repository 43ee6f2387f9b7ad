"""Small best-effort readers of procfs/sysfs text files for the machine component:
an unreadable file is an empty answer, never an exception."""

from __future__ import annotations


def read_text(path: str, limit: int = 1 << 20) -> str | None:
    try:
        with open(path, "rb") as f:
            return f.read(limit).decode("utf-8", "replace")
    except OSError:
        return None


def read_stripped(path: str) -> str:
    text = read_text(path, 4096)
    return "" if text is None else text.strip().strip("\x00").strip()


def int_file(path: str, default: int = -1) -> int:
    """An integer (decimal or 0x hex) from a sysfs attribute."""
    try:
        return int(read_stripped(path), 0)
    except ValueError:
        return default
