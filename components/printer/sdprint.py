"""A print the firmware runs from its own SD card (M23 + M24), shown as a print; and the
card itself (ready or not, its file listing).

Everything comes as typed events from the host link's protocol: the file M23 opened,
progress (SdStatus: M27 auto-report when the firmware has AUTOREPORT_SD_STATUS, else a
poll every second), the end of the print (SdPrintDone), the card's state and listing."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from components.printer.api import (
    JobFinished,
    JobPaused,
    JobResumed,
    JobStarted,
    SdCardFile,
    SdCardState,
)
from components.printer.gcode_state import split_command
from gateway.errors import Conflict, ServerError
from gateway.events import BusEvent
from gateway.hostlink import HostLink, LinkError, LinkNotReady
from gateway.hostlink.protocol import (
    Event,
    SdCardChanged,
    SdFileList,
    SdFileOpened,
    SdPrintDone,
    SdStatus,
)

log = logging.getLogger(__name__)

POLL_INTERVAL = 1.0

Update = Callable[[str, dict[str, Any]], None]
Emit = Callable[[BusEvent], None]


class SdPrint:
    def __init__(self, link: HostLink, update: Update, emit: Emit) -> None:
        self.link = link
        self.update = update
        self.emit = emit
        self.selected: tuple[str, int] | None = None
        self.state = "idle"  # idle | printing | paused
        self.started = 0.0
        self.card = SdCardState()
        self._poller: asyncio.Task[None] | None = None

    @property
    def active(self) -> bool:
        return self.state in ("printing", "paused")

    @property
    def filename(self) -> str:
        return f"sd:{self.selected[0]}" if self.selected else ""

    def on_script(self, script: str, replies: list[str]) -> None:
        """What the console just ran on the firmware (the file M23 opened has already
        come as an SdFileOpened event)."""
        for line in script.splitlines():
            word = split_command(line)[0]
            if word == "M24":
                self._started_or_resumed()
            elif word == "M25" and self.state == "printing":
                self._set("paused")
            elif word == "M524" and self.active:
                self._end("cancelled", "cancelled")

    def on_event(self, event: Event) -> None:
        """One of SD_EVENTS from the link."""
        match event:
            case SdStatus(printing=True, position=position, size=size) if self.active and size:
                self.update("virtual_sdcard", {
                    "file_position": position, "file_size": size,
                    "progress": round((position or 0) / size, 4)})
                self.update("print_stats", {"total_duration": round(time.monotonic()
                                                                    - self.started, 3)})
            case SdPrintDone() if self.active:
                self.update("virtual_sdcard", {"progress": 1.0})
                self._end("complete", "completed")
            case SdFileOpened(name=name, size=size):
                self.selected = (name, size)
            case SdCardChanged(present=present):
                self.card = SdCardState(ready=present, files=self.card.files if present else (),
                                        listings=self.card.listings)
            case SdFileList(files=files):
                listed = tuple(SdCardFile(f.name, f.long_name or f.name, f.size or 0)
                               for f in files)
                self.card = SdCardState(ready=self.card.ready, files=listed,
                                        listings=self.card.listings + 1)

    # the firmware's refusal is the caller's error, and nothing changes (issue 18)
    async def pause(self) -> None:
        if self.state != "printing":
            raise Conflict("SD print is not running")
        await self._command("M25")
        if self.state == "printing":
            self._set("paused")

    async def resume(self) -> None:
        if self.state != "paused":
            raise Conflict("SD print is not paused")
        await self._command("M24")
        if self.state == "paused":
            self._set("printing")

    async def cancel(self) -> None:
        if not self.active:
            raise Conflict("No SD print to cancel")
        await self._command("M524")
        if self.active:
            self._end("cancelled", "cancelled")

    async def _command(self, command: str) -> None:
        try:
            await self.link.send(command)
        except LinkNotReady as exc:
            raise ServerError(f"SD print: {command} not sent: {exc}", 503) from None
        except LinkError as exc:
            raise ServerError(f"SD print: the printer refused {command}: {exc}", 400) \
                from None

    def _started_or_resumed(self) -> None:
        if self.state == "paused":
            self._set("printing")
            return
        if self.selected is None or self.state == "printing":
            return
        size = self.selected[1]
        self.started = time.monotonic()
        self.state = "printing"
        self.update("print_stats", {"filename": self.filename, "state": "printing",
                                    "message": "", "total_duration": 0.0,
                                    "print_duration": 0.0, "filament_used": 0.0})
        self.update("virtual_sdcard", {"file_path": self.filename, "progress": 0.0,
                                       "is_active": True, "file_position": 0,
                                       "file_size": size})
        self.update("idle_timeout", {"state": "Printing"})
        self.emit(JobStarted(self.filename))
        self._poller = asyncio.get_running_loop().create_task(self._poll())

    def _set(self, state: str) -> None:
        self.state = state
        self.update("print_stats", {"state": state})
        self.update("pause_resume", {"is_paused": state == "paused"})
        self.emit(JobPaused(self.filename) if state == "paused"
                  else JobResumed(self.filename))

    def _end(self, state: str, status: str) -> None:
        self.state = "idle"
        if self._poller is not None:
            self._poller.cancel()
            self._poller = None
        total = round(time.monotonic() - self.started, 3)
        self.update("print_stats", {"state": state, "total_duration": total,
                                    "print_duration": total})
        self.update("virtual_sdcard", {"is_active": False})
        self.update("pause_resume", {"is_paused": False})
        self.update("idle_timeout", {"state": "Ready"})
        self.emit(JobFinished(self.filename, status, print_duration=total,
                              total_duration=total))

    async def _poll(self) -> None:
        auto = self.link.firmware.has("AUTOREPORT_SD_STATUS")
        if auto:
            await self._send("M27 S1")
        try:
            while self.active:
                if not auto and self.state == "printing":
                    await self._send("M27")
                await asyncio.sleep(POLL_INTERVAL)
        finally:
            if auto:
                await self._quiet("M27 S0")

    async def _send(self, command: str) -> None:
        try:
            await self.link.send(command)
        except LinkError as exc:
            log.info("SD print: %s failed: %s", command, exc)

    async def _quiet(self, command: str) -> None:
        try:
            await self.link.send(command)
        except (LinkError, asyncio.CancelledError):
            pass

    def close(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
