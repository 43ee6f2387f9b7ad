"""What every OctoPrint route shares: the printer and files components (through small
protocols), the selected file, temperature offsets, the SD card's state, G-code
submission and the events pushed to clients.

The printer component stays the one source of truth: this keeps only what OctoPrint has
and Skysail does not (a selected file, temperature offsets, the SD card's file list as
the firmware last reported it).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from components.files.api import FilesApi
from components.octoprint.runner import GcodeRunner
from components.octoprint.state import Snapshot, StateView, describe, take
from components.octoprint.web import ApiError, quote_path
from components.printer.api import PrinterApi, SdCardState
from components.printer.api import SdCardFile as SdFile
from gateway.errors import ServerError
from gateway.request import Caller, Transport

if TYPE_CHECKING:
    from gateway.api import ServerApi

log = logging.getLogger(__name__)

GCODE_SUFFIXES = (".gcode", ".gco", ".g")


@dataclass(slots=True)
class Selection:
    """OctoPrint's selected file: what `POST /api/job {"command": "start"}` prints."""

    origin: str  # "local" | "sdcard"
    path: str
    size: int | None = None
    date: int | None = None
    meta: dict[str, object] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def job_filename(self) -> str:
        """The name the printer component gives this file's print (print_stats)."""
        return f"sd:{self.path}" if self.origin == "sdcard" else self.path


class SdCard:
    """The printer's SD card, as the printer component reports it (the firmware's
    messages and listings reach it as typed events)."""

    def __init__(self, compat: Compat) -> None:
        self._compat = compat

    def _state(self) -> SdCardState:
        printer = self._compat.printer
        return printer.sd_card() if printer is not None else SdCardState()

    @property
    def ready(self) -> bool:
        return self._state().ready

    @property
    def files(self) -> tuple[SdFile, ...]:
        return self._state().files

    @property
    def listings(self) -> int:
        return self._state().listings

    def find(self, path: str) -> SdFile | None:
        wanted = path.lower()
        for f in self.files:
            if f.path.lower() == wanted or f.name.lower() == wanted:
                return f
        return None


class Compat:
    """The shared state and helpers of the OctoPrint routes."""

    def __init__(self, server: ServerApi) -> None:
        self.server = server
        self.runner = GcodeRunner()
        self.selection: Selection | None = None
        self.offsets: dict[str, int] = {}
        self.sd = SdCard(self)
        # a job action of ours under way: "pausing" | "resuming" | "cancelling"
        self.pending: str | None = None
        # push channel: set by the component (event type, payload)
        self.emit: Callable[[str, dict[str, object]], None] = lambda _t, _p: None

    # -- the other components --------------------------------------------------------

    @property
    def printer(self) -> PrinterApi | None:
        return self.server.find(PrinterApi)

    @property
    def files(self) -> FilesApi:
        files = self.server.find(FilesApi)
        if files is None:
            raise ApiError(404, "File management is not available")
        return files

    def snapshot(self, with_settings: bool = False) -> Snapshot:
        return take(self.printer, with_settings)

    def state(self, snap: Snapshot | None = None) -> StateView:
        return describe(snap or self.snapshot(), self.pending, self.sd.ready)

    def operational(self, message: str = "Printer is not operational") -> Snapshot:
        snap = self.snapshot()
        if not snap.operational:
            raise ApiError(409, message)
        return snap

    async def call_method(self, name: str, args: dict[str, object], caller: Caller) -> Any:
        """A method of the one method table (files listings and operations), called as
        the HTTP caller."""
        registry = self.server.registry
        if name not in registry.endpoints:
            raise ApiError(404, "File management is not available")
        return await registry.call(name, args, Caller(ip=caller.ip, transport=Transport.INTERNAL,
                                                      user=caller.user))

    # -- G-code ----------------------------------------------------------------------

    async def gcode(self, script: str, *, ordered: bool = True,
                    grace: float | None = None) -> None:
        printer = self.printer
        if printer is None:
            raise ApiError(409, "Printer is not operational")

        async def run() -> None:
            await printer.run_gcode(script)

        try:
            await self.runner.submit(run, ordered=ordered, grace=grace)
        except ServerError as exc:
            status = 409 if exc.status == 503 else 400
            raise ApiError(status, exc.message) from None

    async def job_action(self, pending: str, script: str, grace: float | None = None) -> None:
        """PAUSE/RESUME/CANCEL_PRINT (M25/M24/M524 for SD prints): not queued behind
        other commands; the state says Pausing/Resuming/Cancelling until done."""
        printer = self.printer
        if printer is None:
            raise ApiError(409, "Printer is not operational")
        self.pending = pending

        async def run() -> None:
            try:
                await printer.run_gcode(script)
            finally:
                if self.pending == pending:
                    self.pending = None

        try:
            await self.runner.submit(run, ordered=False, grace=grace)
        except ServerError as exc:
            raise ApiError(409 if exc.status in (409, 503) else 400, exc.message) from None

    async def refresh_sd(self) -> None:
        # the listing is M20's reply: it has arrived by the time M20 is acknowledged
        before = self.sd.listings
        await self.gcode("M20 L")
        if self.sd.listings == before:
            raise ApiError(500, "The printer did not list its SD card")

    # -- selection ---------------------------------------------------------------------

    async def select_local(self, path: str) -> Selection:
        files = self.files
        try:
            disk = files.gcode_path(path)
        except ServerError:
            raise ApiError(404, "File not found") from None
        st = await asyncio.to_thread(os.stat, disk)
        meta = await files.get_metadata(path) or {}
        self.selection = Selection("local", path, st.st_size, int(st.st_mtime), meta)
        return self.selection

    def select_sd(self, path: str) -> Selection:
        found = self.sd.find(path)
        self.selection = Selection("sdcard", found.path if found else path,
                                   found.size if found else None)
        return self.selection

    async def print_selection(self) -> None:
        sel = self.selection
        printer = self.printer
        if sel is None or printer is None:
            raise ApiError(409, "No file selected")
        if sel.origin == "sdcard":
            await self.gcode(f"M23 {sel.path}\nM24")
            return
        try:
            await printer.start_print(sel.path)
        except ServerError as exc:
            raise ApiError(409 if exc.status in (409, 503) else 400, exc.message) from None

    async def on_job_started(self, filename: str) -> None:
        """Any print started (here, from Mainsail, the queue...) is the selected file."""
        if filename.startswith("sd:"):
            self.select_sd(filename[3:])
        elif self.selection is None or self.selection.job_filename != filename:
            try:
                await self.select_local(filename)
            except ApiError:
                self.selection = Selection("local", filename)

    def file_refs(self, base_url: str, origin: str, path: str) -> dict[str, str]:
        refs = {"resource": f"{base_url}/api/files/{origin}/{quote_path(path)}"}
        if origin == "local":
            refs["download"] = f"{base_url}/downloads/files/local/{quote_path(path)}"
        return refs
