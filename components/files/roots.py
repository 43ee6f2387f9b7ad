"""Roots and the one place where user paths become disk paths.

Every path a client sends goes through `Roots.resolve` (or `split_request_path` first
for the "root/rest" form): it is checked for what is malformed (NUL bytes, over-long
names, absolute paths, ``..`` parts) and then *resolved* - symlinks included - and
must stay inside its root (`Path.resolve()` + `is_relative_to`). Nothing else in the
component joins user strings onto a root.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from gateway.errors import BadRequest, Forbidden

# ext4/xfs/btrfs name limit in bytes; PATH_MAX for a whole path
NAME_MAX = 255
PATH_MAX = 4096
# prefix of upload temp files: hidden from every listing, removed at start-up
TEMP_PREFIX = ".skysail-upload-"
GCODE_EXTS = frozenset({".gcode", ".g", ".gco", ".ufp", ".nc"})


@dataclass(frozen=True, slots=True)
class Root:
    name: str
    path: Path  # already resolved
    writable: bool

    @property
    def permissions(self) -> str:
        return "rw" if self.writable else "r"


@dataclass(frozen=True, slots=True)
class Target:
    """A resolved user path: its root, the path relative to it and on disk."""

    root: Root
    rel: str  # "" for the root itself, "/" separated
    path: Path

    @property
    def display(self) -> str:
        return f"{self.root.name}/{self.rel}" if self.rel else self.root.name


def is_gcode(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in GCODE_EXTS


def check_rel(rel: str) -> list[str]:
    """The parts of a root-relative path, or the error naming what is wrong with it."""
    if "\x00" in rel:
        raise BadRequest(f"Invalid path {rel!r}: contains a NUL byte")
    if len(rel.encode("utf-8", "surrogateescape")) > PATH_MAX:
        raise BadRequest("Invalid path: longer than 4096 bytes")
    if rel.startswith("/"):
        raise Forbidden(f"Invalid path '{rel}': absolute paths are not allowed")
    parts = [p for p in rel.split("/") if p not in ("", ".")]
    for part in parts:
        if part == "..":
            raise Forbidden(f"Invalid path '{rel}': '..' would leave the root")
        if len(part.encode("utf-8", "surrogateescape")) > NAME_MAX:
            raise BadRequest(f"Invalid path: file name longer than {NAME_MAX} bytes")
    return parts


class Roots:
    def __init__(self) -> None:
        self._roots: dict[str, Root] = {}

    def add(self, name: str, path: Path, writable: bool) -> Root:
        path.mkdir(parents=True, exist_ok=True)
        root = Root(name, path.resolve(), writable)
        self._roots[name] = root
        return root

    def __iter__(self) -> Iterator[Root]:
        return iter(self._roots.values())

    def names(self) -> list[str]:
        return list(self._roots)

    def get(self, name: str) -> Root | None:
        return self._roots.get(name)

    def require(self, name: str) -> Root:
        root = self._roots.get(name)
        if root is None:
            raise BadRequest(f"Invalid root path ({name})")
        return root

    def resolve(self, root: Root | str, rel: str) -> Target:
        """`rel` inside `root`, symlinks followed; never a path outside the root."""
        if isinstance(root, str):
            root = self.require(root)
        parts = check_rel(rel)
        clean = "/".join(parts)
        joined = root.path.joinpath(*parts)
        resolved = joined.resolve()
        if not resolved.is_relative_to(root.path):
            raise Forbidden(f"Invalid path '{rel}': resolves outside root '{root.name}'")
        # keep the link's own path (not its target) so that renames act on the link
        return Target(root, clean, joined)

    def split_request_path(self, request_path: str) -> Target:
        """'gcodes/sub/a.gcode' (leading '/' allowed, as Moonraker) -> Target."""
        if "\x00" in request_path:
            raise BadRequest(f"Invalid path {request_path!r}: contains a NUL byte")
        stripped = request_path.lstrip("/")
        root_name, _, rest = stripped.partition("/")
        if not root_name:
            raise BadRequest(f"Invalid path: {request_path}")
        return self.resolve(self.require(root_name), rest)

    def owner(self, path: Path) -> Target | None:
        """The Target for a disk path under one of the roots (watcher, listings)."""
        for root in self._roots.values():
            if path == root.path or path.is_relative_to(root.path):
                rel = path.relative_to(root.path).as_posix()
                return Target(root, "" if rel == "." else rel, path)
        return None
