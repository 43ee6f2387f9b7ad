"""The job queue's event (its interface to call is its API endpoints)."""

from __future__ import annotations

from gateway.events import BusEvent


class JobQueueChanged(BusEvent, frozen=True):
    """notify_job_queue_changed's action: "jobs_added", "jobs_removed", "job_loaded" or
    "state_changed"."""

    action: str
