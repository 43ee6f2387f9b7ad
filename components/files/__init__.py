"""The files component (Moonraker's "file_manager"): roots, listings, uploads, downloads,
file operations, G-code metadata and thumbnails.

Its interface and event: api.py (FilesApi, FilesChanged). It follows the printer's
JobStarted/JobFinished: the file printing cannot be moved, deleted or overwritten (409).
Websocket notifications: notify_filelist_changed, notify_metadata_update.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gateway.component import ComponentSpec

from .api import FilesApi
from .component import FileManager

if TYPE_CHECKING:
    from gateway.api import ServerApi

__all__ = ["COMPONENT", "FileManager", "load_component"]


def load_component(server: ServerApi) -> FileManager:
    return FileManager(server)


COMPONENT = ComponentSpec(load_component, always=True, provides=(FilesApi,))
