"""A web client's release zip: checked before anything is unpacked, unpacked beside the
live folder, and swapped in with one atomic rename (Linux RENAME_EXCHANGE), so a browser
loading the page gets the old files or the new ones, never a mix or a 404.

Blocking file work: call from a thread."""

from __future__ import annotations

import ctypes
import errno
import hashlib
import json
import os
import shutil
import stat
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

MAX_UNPACKED = 512 * 1024 * 1024
MAX_FILES = 20_000
RELEASE_INFO = "release_info.json"


class ArchiveError(Exception):
    pass


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check(path: Path, digest: str | None = None) -> str:
    """Refuse a damaged or unsafe zip; returns the folder prefix holding index.html
    ("" when it is at the top, "mainsail/" when the zip wraps it in one folder)."""
    if digest:
        algo, _, expected = digest.partition(":")
        if algo.lower() != "sha256":
            raise ArchiveError(f"unknown digest {algo}")
        actual = sha256_of(path)
        if actual != expected.lower():
            raise ArchiveError(f"checksum mismatch: expected sha256 {expected[:16]}…, got "
                               f"{actual[:16]}…")
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_FILES:
                raise ArchiveError(f"{len(infos)} files, more than {MAX_FILES}")
            total = 0
            for info in infos:
                _check_member(info)
                total += info.file_size
            if total > MAX_UNPACKED:
                raise ArchiveError(f"unpacks to {total} bytes, more than {MAX_UNPACKED}")
            bad = zf.testzip()
            if bad is not None:
                raise ArchiveError(f"damaged file in the zip: {bad}")
            names = {i.filename for i in infos}
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
        raise ArchiveError(f"not a valid zip file ({exc})") from None
    except (OSError, RuntimeError, ValueError, NotImplementedError) as exc:
        # zlib errors and unsupported compression surface as these
        raise ArchiveError(f"damaged zip file ({exc})") from None
    if "index.html" in names:
        return ""
    tops = {n.split("/", 1)[0] for n in names}
    if len(tops) == 1:
        top = next(iter(tops))
        if f"{top}/index.html" in names:
            return f"{top}/"
    raise ArchiveError("the zip holds no index.html: not a web client")


def _check_member(info: zipfile.ZipInfo) -> None:
    name = info.filename
    pure = PurePosixPath(name)
    if "\\" in name or pure.is_absolute() or ".." in pure.parts or name.startswith("/"):
        raise ArchiveError(f"unsafe path in the zip: {name!r}")
    kind = stat.S_IFMT(info.external_attr >> 16)
    if kind and kind not in (stat.S_IFREG, stat.S_IFDIR):
        raise ArchiveError(f"the zip holds a link or special file: {name!r}")


def unpack(path: Path, prefix: str, dest: Path) -> None:
    """Unpack the checked zip's `prefix` folder into the new folder `dest`."""
    dest.mkdir(mode=0o755)
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            if not info.filename.startswith(prefix):
                continue
            rel = info.filename[len(prefix):]
            if not rel:
                continue
            target = dest / rel
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, target.open("wb") as out:
                shutil.copyfileobj(src, out, 1 << 20)
            target.chmod(0o644)


def read_release_info(folder: Path) -> dict[str, Any]:
    try:
        data = json.loads((folder / RELEASE_INFO).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_release_info(folder: Path, owner: str, name: str, version: str) -> None:
    info = read_release_info(folder)
    info.update({"project_name": name, "project_owner": owner, "version": version})
    (folder / RELEASE_INFO).write_text(json.dumps(info, indent=2) + "\n")
    (folder / RELEASE_INFO).chmod(0o644)


def keep_files(old: Path, new: Path, names: list[str]) -> None:
    """Copy `persistent_files` from the live folder into the new one."""
    for name in names:
        src = old / name
        if src.is_file():
            shutil.copy2(src, new / name)
        elif src.is_dir():
            shutil.rmtree(new / name, ignore_errors=True)
            shutil.copytree(src, new / name, symlinks=True)


_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def exchange(a: Path, b: Path) -> bool:
    """Swap two folders atomically; False where the system cannot (then the caller
    renames twice)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                          ctypes.c_uint]
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b),
                       _RENAME_EXCHANGE)
    if result == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(a))


def swap_in(new: Path, live: Path, previous: Path) -> None:
    """Make `new` the live folder; the old one becomes `previous` (replacing an older
    previous)."""
    if not live.exists():
        new.rename(live)
        return
    if exchange(new, live):
        old = new
    else:
        old = new.with_name(new.name + ".old")
        live.rename(old)
        new.rename(live)
    if previous.exists():
        shutil.rmtree(previous)
    old.rename(previous)


def swap_back(live: Path, previous: Path) -> None:
    """Rollback: the previous folder becomes live again, the current one previous."""
    if not previous.is_dir():
        raise ArchiveError("no previous version kept")
    if not exchange(previous, live):
        tmp = live.with_name(live.name + ".rollback")
        live.rename(tmp)
        previous.rename(live)
        tmp.rename(previous)
