"""The files component (Moonraker's "file_manager"): roots, listings, uploads, downloads,
file operations, G-code metadata and thumbnails.

Events consumed (emitted by the printer component):
    job:started(filename)   - gcodes-relative path of the file now printing; it cannot
                              be moved, deleted or overwritten until the job ends (409)
    job:finished(...)       - the job is over
    job:ended(...)          - the job is over (either name works; arguments ignored)

Events emitted:
    files:changed(payload)  - after every change made through the API; `payload` is the
                              notify_filelist_changed payload {action, item, source_item?}

Websocket notifications: notify_filelist_changed, notify_metadata_update.

Used from other components: `PrintStarter` (jobs.py) - the printer component offers
`async def start_print(filename: str) -> None` for uploads with print=true;
`FileManager.gcode_path(filename)` and `await FileManager.get_metadata(filename)`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .component import FILES_CHANGED, FileManager
from .jobs import JOB_ENDED, JOB_FINISHED, JOB_STARTED, PrintStarter

if TYPE_CHECKING:
    from gateway.app import Server

__all__ = [
    "FILES_CHANGED",
    "JOB_ENDED",
    "JOB_FINISHED",
    "JOB_STARTED",
    "FileManager",
    "PrintStarter",
    "load_component",
]


def load_component(server: Server) -> FileManager:
    return FileManager(server)
