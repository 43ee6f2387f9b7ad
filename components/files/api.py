"""What other components may rely on from the files component (Moonraker's
"file_manager"): `server.lookup(FilesApi)`, and the event it emits."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

from gateway.events import BusEvent
from gateway.transports.files_http import FilesService


class FilesChanged(BusEvent, frozen=True):
    """After every change made through the API (notify_filelist_changed's facts):
    `action` is create_file | create_dir | delete_file | delete_dir | move_file |
    move_dir | modify_file | root_update; `source_*` are set for moves."""

    action: str
    root: str
    path: str
    source_root: str | None = None
    source_path: str | None = None


@runtime_checkable
class FilesApi(FilesService, Protocol):
    """Uploads and downloads (FilesService, for HTTP handlers) and:"""

    def gcode_path(self, filename: str) -> Path:
        """Disk path of gcodes/`filename`; NotFound (404) if there is no such file."""

    async def get_metadata(self, filename: str) -> dict[str, object] | None:
        """The file's metadata as server.files.metadata answers it, or None."""

    def note_print_start(self, filename: str, job_id: str, start_time: float) -> None:
        """A print of gcodes/`filename` began: its metadata shows the job (`job_id`,
        `print_start_time`), as Moonraker's does — Fluidd's file list reads them."""

    def register_directory(self, name: str, path: Path, full_access: bool) -> None:
        """Another component's folder as a root (listed, downloaded and deleted through
        server.files.*); ValueError if the name is taken."""

    def repoint_directory(self, name: str, path: Path) -> None:
        """A root from register_directory shows another folder from now on (the
        timelapse frames of the current print); KeyError if there is no such root."""
