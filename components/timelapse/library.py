"""The output folder (the `timelapse` root): rendered videos, their thumbnails and frame
zips. Listing, deleting and downloading go through here; names are single file names
inside the folder, checked before any disk access."""

from __future__ import annotations

import datetime
import os
import urllib.parse
from pathlib import Path
from typing import TypedDict

from gateway.errors import BadRequest, NotFound, ServerError
from gateway.request import Caller
from gateway.transports.files_http import UploadSession

ROOT = "timelapse"
# the frames of the current print (Moonraker-timelapse's name for the frame folder)
FRAMES_ROOT = "timelapse_frames"
VIDEO_SUFFIXES = (".mp4", ".mkv", ".webm", ".avi")
SHOWN_SUFFIXES = (*VIDEO_SUFFIXES, ".jpg", ".zip")


class LibraryFile(TypedDict):
    path: str
    filename: str
    modified: float
    size: int
    permissions: str


class Library:
    def __init__(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        self.path = path.resolve()

    def resolve(self, name: str) -> Path:
        """`name` in the folder; BadRequest for anything but a plain file name."""
        name = name.lstrip("/").removeprefix(f"{ROOT}/")
        if (not name or "/" in name or "\\" in name or "\x00" in name
                or name in (".", "..") or name.startswith(".")):
            raise BadRequest(f"Invalid timelapse file name: {name!r}")
        return self.path / name

    def existing(self, name: str) -> Path:
        path = self.resolve(name)
        try:
            found = path.is_file()
        except OSError:  # a name too long for the file system, say: no such file
            found = False
        if not found:
            raise NotFound(f"File not found: {ROOT}/{name[:255]}")
        return path

    def unique(self, stem: str, suffix: str) -> Path:
        path = self.path / f"{stem}{suffix}"
        n = 1
        while path.exists():
            n += 1
            path = self.path / f"{stem}_{n}{suffix}"
        return path

    def files(self) -> list[LibraryFile]:
        """Moonraker's file entries (as server.files.list), newest first."""
        out: list[LibraryFile] = []
        with os.scandir(self.path) as entries:
            for entry in entries:
                if entry.name.startswith(".") or not entry.is_file():
                    continue
                if not entry.name.lower().endswith(SHOWN_SUFFIXES):
                    continue
                st = entry.stat()
                out.append({"path": entry.name, "filename": entry.name,
                            "modified": st.st_mtime, "size": st.st_size,
                            "permissions": "rw"})
        out.sort(key=lambda e: (-e["modified"], e["path"]))
        return out

    def videos(self) -> list[LibraryFile]:
        return [f for f in self.files() if f["path"].lower().endswith(VIDEO_SUFFIXES)]

    def delete(self, name: str) -> list[str]:
        """Remove a file, and a video's thumbnail with it; the names removed."""
        path = self.existing(name)
        removed = [path.name]
        path.unlink()
        if path.suffix.lower() in VIDEO_SUFFIXES:
            thumb = path.with_suffix(".jpg")
            if thumb.is_file():
                thumb.unlink()
                removed.append(thumb.name)
        return removed


def octoprint_entry(f: LibraryFile, library: Library) -> dict[str, object]:
    """OctoPrint's timelapse list entry (as the seed documents it, plus the thumbnail)."""
    name = f["path"]
    entry: dict[str, object] = {
        "name": name,
        "size": f["size"],
        "bytes": f["size"],
        "date": datetime.datetime.fromtimestamp(f["modified"]).strftime("%Y-%m-%d %H:%M:%S"),
        "url": f"/downloads/timelapse/{urllib.parse.quote(name)}",
    }
    thumb = Path(name).with_suffix(".jpg").name
    if (library.path / thumb).is_file():
        entry["thumbnail"] = f"/downloads/timelapse/{urllib.parse.quote(thumb)}"
    return entry


class LibraryFiles:
    """The files-service face of the folder, for the download handler (Range, ETag)."""

    def __init__(self, library: Library) -> None:
        self.library = library

    @property
    def max_upload_size(self) -> int:
        return 0

    def begin_upload(self, caller: Caller, content_length: int | None) -> UploadSession:
        raise ServerError("Uploads to the timelapse folder are not supported", 405)

    def download_path(self, root: str, path: str) -> Path:
        return self.library.existing(path)

    async def delete_file(self, request_path: str) -> dict[str, object]:
        raise ServerError("Method Not Allowed", 405)
