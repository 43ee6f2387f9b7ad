"""The history component's event, and the interface other components use to add their
fields to a job's record (components/history/auxiliary.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

from gateway.events import BusEvent

if TYPE_CHECKING:
    from components.history.auxiliary import AuxiliaryProvider


@runtime_checkable
class HistoryApi(Protocol):
    def add_auxiliary_provider(self, provider: AuxiliaryProvider) -> None:
        """Fields added to every job's record when it ends (sensors' history fields)."""


class HistoryChanged(BusEvent, frozen=True):
    """notify_history_changed's facts: `action` "added" | "finished" with the `job` as
    notified, or "deleted" with `deleted_jobs` (Moonraker sends no notification for
    deletions; this event is sent for them too)."""

    action: str
    job: dict[str, object] | None = None
    deleted_jobs: tuple[str, ...] = ()
