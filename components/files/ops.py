"""Blocking file-system operations (run in a thread); paths arrive already checked."""

from __future__ import annotations

import os
import secrets
import shutil
import zipfile
from pathlib import Path

from .roots import TEMP_PREFIX, Target


def final_destination(src: Path, dst: Path, *, copying: bool) -> Path:
    """Where shutil.move/copy2 put `src` for `dst`: into `dst` if it is a folder
    (copying a folder onto an existing one fails instead, as in Moonraker)."""
    if dst.is_dir() and not (copying and src.is_dir()):
        return dst / src.name
    return dst


def move(src: Path, dst: Path) -> None:
    # os.replace when both are on one file system: atomic, keeps mtime (and metadata)
    shutil.move(src, dst)


def copy(src: Path, dst: Path) -> None:
    if src.is_dir():
        shutil.copytree(src, dst, symlinks=True)
    else:
        shutil.copy2(src, dst)


def remove_tree(path: Path) -> None:
    shutil.rmtree(path)


def zip_items(items: list[Target], dest: Path, store_only: bool) -> None:
    """Zip files and folders (recursively) as 'root/relative/path' members, written
    to a hidden temp file and renamed into place."""
    temp = dest.parent / f"{TEMP_PREFIX}{secrets.token_hex(8)}.zip"
    method = zipfile.ZIP_STORED if store_only else zipfile.ZIP_DEFLATED
    seen: set[tuple[int, int]] = set()
    try:
        with zipfile.ZipFile(temp, "w", compression=method) as zf:
            for item in items:
                for path in _files_of(item):
                    st = path.stat()
                    if (st.st_dev, st.st_ino) in seen:
                        continue
                    seen.add((st.st_dev, st.st_ino))
                    arcname = f"{item.root.name}/{path.relative_to(item.root.path).as_posix()}"
                    zf.write(path, arcname=arcname)
        os.replace(temp, dest)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _files_of(item: Target) -> list[Path]:
    path = item.path
    if path.is_file():
        return [path]
    found: list[Path] = []
    for directory, dirnames, filenames in os.walk(path):
        dirnames[:] = [d for d in dirnames if d != ".git"]
        for name in filenames:
            full = Path(directory, name)
            if name.startswith(TEMP_PREFIX) or not full.is_file():
                continue
            if not full.resolve().is_relative_to(item.root.path):
                continue
            found.append(full)
    return sorted(found)
