"""`GET/POST /api/job`: the selected file, the print's progress and job control."""

from __future__ import annotations

import math
from typing import Any

from components.octoprint import params as p
from components.octoprint.core import Compat, Selection
from components.octoprint.state import Snapshot
from components.octoprint.users import display_name
from components.octoprint.web import NO_CONTENT, ApiError, Table
from gateway.registry import Response
from gateway.request import Request

FILAMENT_DIAMETER = 1.75
RESTART_WAIT = 120.0


def filament(meta: dict[str, Any]) -> dict[str, Any] | None:
    length = meta.get("filament_total")
    if not isinstance(length, (int, float)):
        return None
    area = math.pi * (FILAMENT_DIAMETER / 2) ** 2
    return {"tool0": {"length": float(length), "volume": round(length * area / 1000, 3)}}


def estimated_time(meta: dict[str, Any]) -> float | None:
    value = meta.get("estimated_time")
    return float(value) if isinstance(value, (int, float)) else None


def _job_shows(sel: Selection | None, snap: Snapshot) -> bool:
    """Does the printer's job (print_stats) belong to the selected file?"""
    return (sel is not None and snap.print_state != "standby"
            and snap.filename == sel.job_filename)


def job_info(sel: Selection | None, user: str | None = None) -> dict[str, Any]:
    if sel is None:
        return {"file": {"name": None, "path": None, "display": None, "origin": None,
                         "size": None, "date": None},
                "estimatedPrintTime": None, "averagePrintTime": None,
                "lastPrintTime": None, "filament": None, "user": None}
    return {
        "file": {"name": sel.name, "display": sel.name, "path": sel.path,
                 "origin": sel.origin, "size": sel.size, "date": sel.date},
        "estimatedPrintTime": estimated_time(sel.meta),
        "averagePrintTime": None,
        "lastPrintTime": None,
        "filament": filament(sel.meta),
        "user": user,
    }


def progress(sel: Selection | None, snap: Snapshot) -> dict[str, Any]:
    empty: dict[str, Any] = {"completion": None, "filepos": None, "printTime": None,
                             "printTimeLeft": None, "printTimeLeftOrigin": None}
    if sel is None or not _job_shows(sel, snap):
        return empty
    size = snap.file_size or sel.size or 0
    done = snap.print_state == "complete"
    position = size if done else snap.file_position
    completion = 100.0 if done else (round(position * 100.0 / size, 2) if size else 0.0)
    elapsed = snap.print_duration
    left: int | None = None
    origin: str | None = None
    estimate = estimated_time(sel.meta)
    if done:
        left, origin = 0, None
    elif estimate is not None:
        left, origin = max(0, int(estimate - elapsed)), "analysis"
    elif completion > 0.5:
        left, origin = max(0, int(elapsed * (100.0 - completion) / completion)), "linear"
    return {"completion": completion, "filepos": position, "printTime": int(elapsed),
            "printTimeLeft": left, "printTimeLeftOrigin": origin}


def job_status(app: Compat, snap: Snapshot, user: str | None = None) -> dict[str, Any]:
    state = app.state(snap)
    if not snap.operational and snap.link == "disconnected":
        return {"job": job_info(None), "progress": progress(None, snap), "state": state.text}
    body = {"job": job_info(app.selection, user), "progress": progress(app.selection, snap),
            "state": state.text}
    if state.error:
        body["error"] = state.error
    return body


class JobRoutes:
    def __init__(self, app: Compat) -> None:
        self.app = app

    def routes(self) -> Table:
        return {"/api/job": ("job", {"GET": (self.get, None), "POST": (self.post, p.JobArgs)})}

    async def get(self, request: Request) -> object:
        return job_status(self.app, self.app.snapshot(), display_name(request.caller.user))

    async def post(self, args: p.JobArgs, request: Request) -> Response:
        app = self.app
        snap = app.operational()
        if isinstance(args, p.JobStart):
            if snap.active:
                raise ApiError(409, "Printer already has an active print job, did you mean "
                                    "'restart'?")
            if app.selection is None:
                raise ApiError(409, "No file selected")
            await app.print_selection()
        elif isinstance(args, p.JobRestart):
            if not snap.paused:
                raise ApiError(409, "Printer does not have an active paused print job")
            # the print starts over once the cancel is complete
            await app.job_action("cancelling", "M524" if snap.from_sd else "CANCEL_PRINT",
                                 grace=RESTART_WAIT)
            await app.print_selection()
        elif isinstance(args, p.JobCancel):
            if not snap.active:
                raise ApiError(409, "No active print job to cancel")
            await app.job_action("cancelling", "M524" if snap.from_sd else "CANCEL_PRINT")
        else:
            await self._pause(snap, args.action)
        return NO_CONTENT

    async def _pause(self, snap: Snapshot, action: str) -> None:
        if not snap.active:
            raise ApiError(409, "Printer is neither printing nor paused, 'pause' command "
                                "cannot be performed")
        if action == "toggle":
            action = "resume" if snap.paused else "pause"
        if action == "pause":
            if not snap.printing:
                return  # already paused: nothing to do, as OctoPrint
            await self.app.job_action("pausing", "M25" if snap.from_sd else "PAUSE")
        else:
            if not snap.paused:
                return
            await self.app.job_action("resuming", "M24" if snap.from_sd else "RESUME")
