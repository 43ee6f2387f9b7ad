"""The history component's event (it offers no interface to call)."""

from __future__ import annotations

from typing import Any

from gateway.events import BusEvent


class HistoryChanged(BusEvent, frozen=True):
    """notify_history_changed's facts: `action` "added" | "finished" with the `job` as
    notified, or "deleted" with `deleted_jobs` (Moonraker sends no notification for
    deletions; this event is sent for them too)."""

    action: str
    job: dict[str, Any] | None = None
    deleted_jobs: tuple[str, ...] = ()
