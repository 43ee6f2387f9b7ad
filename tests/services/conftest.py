"""Shared by the services tests: a running server, a real G-code file, simulated prints."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from components.printer.api import JobFinished, JobStarted
from tests.harness import DEFAULT_CONFIG, RunningServer, Websocket, running_server, wait_for

# these components need no printer: a port that never appears keeps the link idle
CONFIG = DEFAULT_CONFIG + """
[serial]
port: /nonexistent/skysail-test-port
"""
SAMPLES = Path(__file__).resolve().parent.parent / "files_metadata" / "samples"
BOUNDARY = "----skysailServicesBoundary"


@pytest.fixture
async def srv(tmp_path: Path) -> AsyncIterator[RunningServer]:
    async with running_server(tmp_path, CONFIG) as running:
        yield running


async def upload(srv: RunningServer, name: str, sample: str = "prusaslicer.gcode") -> None:
    """A real upload through the files API, so the metadata is real."""
    data = (SAMPLES / sample).read_bytes()
    body = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode() + data + f"\r\n--{BOUNDARY}--\r\n".encode()
    reply = await srv.http.post(
        "/server/files/upload",
        body=body,
        headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
    )
    assert reply.status == 201, reply.body


def history_notes(ws: Websocket, action: str) -> list[dict[str, Any]]:
    return [
        n["params"][0]
        for n in ws.notifications
        if n["method"] == "notify_history_changed" and n["params"][0]["action"] == action
    ]


async def start_job(srv: RunningServer, ws: Websocket, filename: str) -> dict[str, Any]:
    """Emit the printer's JobStarted; returns the "added" job once announced."""
    before = len(history_notes(ws, "added"))
    srv.server.events.emit(JobStarted(filename))
    await wait_for(lambda: len(history_notes(ws, "added")) > before, what="history added")
    job: dict[str, Any] = history_notes(ws, "added")[-1]["job"]
    return job


async def finish_job(
    srv: RunningServer,
    ws: Websocket,
    filename: str,
    status: str = "completed",
    stats: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Emit JobFinished; returns the "finished" job once announced."""
    before = len(history_notes(ws, "finished"))
    srv.server.events.emit(JobFinished(filename, status, **(stats or {})))
    await wait_for(lambda: len(history_notes(ws, "finished")) > before, what="history finished")
    job: dict[str, Any] = history_notes(ws, "finished")[-1]["job"]
    return job


def stats(print_duration: float, total_duration: float, filament: float) -> dict[str, Any]:
    return {
        "print_duration": print_duration,
        "total_duration": total_duration,
        "filament_used": filament,
        "message": "",
    }
