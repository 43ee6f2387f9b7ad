"""Frames on disk: one folder per print under the frame path, `frame000001.jpg` on,
numbered without gaps (a skipped snapshot takes no number: ffmpeg's image sequence
stops at the first missing number). Blocking work here runs on a worker thread."""

from __future__ import annotations

import datetime
import re
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

FRAME_RE = re.compile(r"^frame(\d{6})\.jpg$")
PATTERN = "frame%06d.jpg"
_UNSAFE = re.compile(r"[^\w.+-]+")


def frame_name(number: int) -> str:
    return f"frame{number:06d}.jpg"


def safe_stem(filename: str) -> str:
    """A print's file name as a piece of a file name: no folders, no extension."""
    base = filename.removeprefix("sd:").rsplit("/", 1)[-1]
    stem = base.rsplit(".", 1)[0] if "." in base else base
    return _UNSAFE.sub("_", stem).strip("._") or "print"


@dataclass(slots=True)
class FrameSet:
    """The frames of one print."""

    path: Path
    printfile: str
    count: int = 0
    last: str = ""

    def next_path(self) -> Path:
        return self.path / frame_name(self.count + 1)

    def added(self, name: str) -> None:
        self.count += 1
        self.last = name

    def files(self) -> list[Path]:
        return sorted(p for p in self.path.glob("frame*.jpg") if FRAME_RE.match(p.name))

    def recount(self) -> None:
        files = self.files()
        self.count = len(files)
        self.last = files[-1].name if files else ""


def new_set(frame_root: Path, printfile: str, now: datetime.datetime) -> FrameSet:
    frame_root.mkdir(parents=True, exist_ok=True)
    base = f"{now.strftime('%Y%m%d_%H%M%S')}_{safe_stem(printfile)}"
    path = frame_root / base
    n = 1
    while path.exists():
        n += 1
        path = frame_root / f"{base}_{n}"
    path.mkdir()
    return FrameSet(path, printfile)


def latest_set(frame_root: Path) -> FrameSet | None:
    """The newest folder with frames (after a restart: what `render` works on)."""
    if not frame_root.is_dir():
        return None
    folders = sorted((p for p in frame_root.iterdir() if p.is_dir()),
                     key=lambda p: p.stat().st_mtime)
    for folder in reversed(folders):
        found = FrameSet(folder, folder.name.split("_", 2)[-1])
        found.recount()
        if found.count:
            return found
    return None


def write_frame(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_bytes(data)
    tmp.replace(path)


def remove_sets(frame_root: Path, keep: set[Path]) -> None:
    if not frame_root.is_dir():
        return
    for folder in frame_root.iterdir():
        if folder.is_dir() and folder not in keep:
            shutil.rmtree(folder, ignore_errors=True)


def zip_frames(frames: FrameSet, dest: Path) -> None:
    tmp = dest.with_name(f".{dest.name}.part")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as zf:
        for file in frames.files():
            zf.write(file, file.name)
    tmp.replace(dest)
