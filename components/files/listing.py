"""Directory walks and the per-entry info dicts Moonraker sends (blocking: run in a thread).

Upload temp files and `.git` folders never appear; symlinks that lead out of their root
are left out too (a listing must not offer what a download would refuse).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TypedDict

from .roots import TEMP_PREFIX, Root, is_gcode


class PathInfo(TypedDict):
    modified: float
    size: int
    permissions: str


class ListedFile(PathInfo):
    """An entry of server.files.list."""

    path: str


class DirEntry(PathInfo, total=False):
    """An entry of server.files.get_directory: a folder has `dirname`, a file
    `filename`."""

    dirname: str
    filename: str


def path_info(path: Path | str, root: Root) -> PathInfo:
    """{modified, size, permissions} as Moonraker's get_path_info (raises OSError)."""
    st = os.stat(path)
    return {"modified": st.st_mtime, "size": st.st_size, "permissions": root.permissions}


def empty_info() -> PathInfo:
    """What Moonraker reports for something that no longer exists."""
    return {"modified": 0, "size": 0, "permissions": ""}


def _hidden(name: str) -> bool:
    return name.startswith(TEMP_PREFIX) or name == ".git"


def _escapes(entry: os.DirEntry[str], root: Root) -> bool:
    if not entry.is_symlink():
        return False
    try:
        return not Path(entry.path).resolve().is_relative_to(root.path)
    except (OSError, RuntimeError):
        return True


def walk_files(root: Root, gcode_only: bool) -> list[ListedFile]:
    """server.files.list: every file under the root, sorted case-insensitively."""
    found: list[ListedFile] = []
    seen: set[tuple[int, int]] = set()
    stack = [(root.path, "")]
    while stack:
        directory, prefix = stack.pop()
        try:
            st = os.stat(directory)
            if (st.st_dev, st.st_ino) in seen:  # a symlink loop inside the root
                continue
            seen.add((st.st_dev, st.st_ino))
            entries = list(os.scandir(directory))
        except OSError:
            continue
        for entry in entries:
            if _hidden(entry.name) or _escapes(entry, root):
                continue
            rel = prefix + entry.name
            try:
                if entry.is_dir():
                    stack.append((Path(entry.path), rel + "/"))
                    continue
                if not entry.is_file() or (gcode_only and not is_gcode(entry.name)):
                    continue
                est = entry.stat()
            except OSError:
                continue
            found.append(
                {
                    "path": rel,
                    "modified": est.st_mtime,
                    "size": est.st_size,
                    "permissions": root.permissions,
                }
            )
    found.sort(key=lambda item: item["path"].lower())
    return found


def list_directory(
    directory: Path, root: Root
) -> tuple[list[DirEntry], list[DirEntry], dict[str, int]]:
    """(dirs, files, disk_usage) of one directory, as server.files.get_directory."""
    dirs: list[DirEntry] = []
    files: list[DirEntry] = []
    for entry in sorted(os.scandir(directory), key=lambda e: e.name):
        if _hidden(entry.name) or _escapes(entry, root):
            continue
        try:
            st = entry.stat()
            info: DirEntry = {"modified": st.st_mtime, "size": st.st_size,
                              "permissions": root.permissions}
            if entry.is_dir():
                info["dirname"] = entry.name
                dirs.append(info)
            elif entry.is_file():
                info["filename"] = entry.name
                files.append(info)
        except OSError:
            continue
    usage = shutil.disk_usage(directory)
    return dirs, files, {"total": usage.total, "used": usage.used, "free": usage.free}
