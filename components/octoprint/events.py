"""The printer's and the files component's bus events as OctoPrint's push events."""

from __future__ import annotations

import posixpath
from collections.abc import Callable

from components.files.api import FilesChanged
from components.octoprint.core import Compat
from components.printer.api import (
    JobFinished,
    JobPaused,
    JobResumed,
    JobStarted,
    PrinterStateChanged,
)

Emit = Callable[[str, dict[str, object]], None]

_FILE_EVENTS = {"create_file": "FileAdded", "delete_file": "FileRemoved",
                "create_dir": "FolderAdded", "delete_dir": "FolderRemoved",
                "move_file": "FileMoved", "move_dir": "FolderMoved"}
_STATE_IDS = {"ready": ("OPERATIONAL", "Operational"), "startup": ("CONNECTING", "Connecting"),
              "error": ("CLOSED_WITH_ERROR", "Offline after error"),
              "shutdown": ("CLOSED_WITH_ERROR", "Offline after error"),
              "disconnected": ("OFFLINE", "Offline")}


def job_payload(filename: str) -> dict[str, object]:
    if filename.startswith("sd:"):
        path, origin = filename[3:], "sdcard"
    else:
        path, origin = filename, "local"
    return {"name": posixpath.basename(path), "path": path, "origin": origin}


class EventMapper:
    def __init__(self, app: Compat, emit: Emit) -> None:
        self.app = app
        self.emit = emit

    def state_changed(self, state_id: str, text: str) -> None:
        self.emit("PrinterStateChanged", {"state_id": state_id, "state_string": text})

    def on_printer_state(self, event: PrinterStateChanged) -> None:
        state, message = event.state, event.message
        state_id, text = _STATE_IDS.get(state, ("UNKNOWN", state))
        if state == "ready":
            self.emit("Connected", {"port": None, "baudrate": None})
        elif state == "disconnected":
            self.emit("Disconnected", {})
        elif state in ("error", "shutdown"):
            self.emit("Error", {"error": message})
        self.state_changed(state_id, text)

    async def on_started(self, event: JobStarted) -> None:
        filename = event.filename
        await self.app.on_job_started(filename)
        payload = job_payload(filename)
        sel = self.app.selection
        if sel is not None and sel.size is not None:
            payload["size"] = sel.size
        self.emit("PrintStarted", payload)
        self.state_changed("PRINTING", "Printing")

    def on_paused(self, event: JobPaused) -> None:
        self.emit("PrintPaused", job_payload(event.filename))
        self.state_changed("PAUSED", "Paused")

    def on_resumed(self, event: JobResumed) -> None:
        self.emit("PrintResumed", job_payload(event.filename))
        self.state_changed("PRINTING", "Printing")

    def on_finished(self, event: JobFinished) -> None:
        status = event.status
        payload = job_payload(event.filename)
        payload["time"] = event.print_duration
        if status == "completed":
            self.emit("PrintDone", payload)
        elif status == "cancelled":
            self.emit("PrintCancelled", payload)
            self.emit("PrintFailed", {**payload, "reason": "cancelled"})
        else:
            self.emit("PrintFailed", {**payload, "reason": "error",
                                      "error": event.message})
        self.state_changed("OPERATIONAL", "Operational")

    def on_files_changed(self, event: FilesChanged) -> None:
        if event.root != "gcodes":
            return
        kind = _FILE_EVENTS.get(event.action)
        path = event.path
        if kind is not None:
            body: dict[str, object] = {"storage": "local", "path": path,
                                    "name": posixpath.basename(path)}
            if kind.startswith("File"):
                body["type"] = ["machinecode", "gcode"]
            if event.source_path is not None and kind.endswith("Moved"):
                body = {"storage": "local", "source_path": event.source_path,
                        "destination_path": path}
            self.emit(kind, body)
        self.emit("UpdatedFiles", {"type": "printables"})
