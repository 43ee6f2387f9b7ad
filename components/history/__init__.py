"""The history component (Moonraker's "history"): every print job recorded in the
database, listed and totalled.

Events consumed (emitted by the printer component):
    job:started(filename)                  a row is written at once, status "in_progress"
    job:finished(filename, status, stats)  the row gets its status, end time, durations and
                                           filament; the totals grow

A row still "in_progress" when the server starts was left by a crash: it becomes
"interrupted". A clean stop during a print records "server_exit", as Moonraker does.

Events emitted:
    history:changed(payload)   {"action": "added" | "finished", "job": {...}} (the
                               notify_history_changed payload), or
                               {"action": "deleted", "deleted_jobs": ["00000A", ...]}

Websocket notifications: notify_history_changed (added, finished — Moonraker sends none
for deletions).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .component import HISTORY_CHANGED, History

if TYPE_CHECKING:
    from gateway.app import Server

__all__ = ["HISTORY_CHANGED", "History", "load_component"]


def load_component(server: Server) -> History:
    return History(server)
