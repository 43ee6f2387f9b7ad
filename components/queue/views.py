"""The queue as each API shows it (pure; `now` is passed in).

Moonraker's job_queue lists *prints still to start*: one entry per set with copies left
(the copy being printed is not listed, as Moonraker pops a job when it loads), named by
the set id in Moonraker's 16-hex-digit form. Continuous Print shows jobs and sets.
"""

from __future__ import annotations

from .model import LOADING_PHASES, Phase, QueueJob, QueueSet, QueueState, Run

QUEUE_NAME = "local"
STRATEGY = "IN_ORDER"


def moonraker_id(set_id: int) -> str:
    return f"{set_id:016X}"


def parse_moonraker_id(job_id: str) -> int | None:
    try:
        value = int(job_id.strip(), 16)
    except ValueError:
        return None
    return value if value > 0 else None


def queue_state(state: QueueState) -> str:
    """ready | loading | starting | paused."""
    if not state.active or state.phase is Phase.AWAITING_CLEAR:
        return "paused"
    if state.phase in LOADING_PHASES:
        return "loading"
    if state.phase is Phase.STARTING:
        return "starting"
    return "ready"


def _pending(job: QueueJob, s: QueueSet, run: Run | None) -> bool:
    if job.draft or job.remaining <= 0 or not s.live:
        return False
    left = s.remaining - (1 if run is not None and run.set_id == s.id else 0)
    return left > 0 or job.remaining > 1


def queued_jobs(state: QueueState, now: float) -> list[dict[str, object]]:
    return [
        {
            "filename": s.path,
            "job_id": moonraker_id(s.id),
            "time_added": s.added,
            "time_in_queue": max(0.0, now - s.added),
        }
        for job, s in state.all_sets()
        if _pending(job, s, state.run)
    ]


def visible_ids(state: QueueState) -> tuple[int, ...]:
    """What Moonraker's list shows, to tell whether it changed."""
    return tuple(s.id for job, s in state.all_sets() if _pending(job, s, state.run))


def moonraker_status(state: QueueState, now: float) -> dict[str, object]:
    return {"queued_jobs": queued_jobs(state, now), "queue_state": queue_state(state)}


# -- Continuous Print ------------------------------------------------------------------


def set_dict(s: QueueSet) -> dict[str, object]:
    out: dict[str, object] = {
        "path": s.path,
        "count": s.count,
        "remaining": s.remaining,
        "materials": list(s.materials),
        "profiles": list(s.profiles),
        "sd": s.sd,
        "id": s.id,
        "completed": s.completed,
    }
    if s.failed is not None:
        out["failed"] = s.failed
        out["missing_file"] = True
    return out


def job_dict(job: QueueJob, run: Run | None) -> dict[str, object]:
    return {
        "queue": QUEUE_NAME,
        "name": job.name,
        "count": job.count,
        "remaining": job.remaining,
        "draft": job.draft,
        "acquired": run is not None and run.job_id == job.id,
        "created": int(job.created),
        "id": job.id,
        "sets": [set_dict(s) for s in job.sets],
    }


def _run_dict(run: Run) -> dict[str, object]:
    return {"job_id": run.job_id, "set_id": run.set_id, "path": run.path,
            "started": run.started}


_ACTIVE_STATUS = {
    Phase.IDLE: "Idle (awaiting printable Job)",
    Phase.WAITING_START: "Waiting for printer to be ready",
    Phase.WAITING_DELAY: "Finishing up",
    Phase.CLEARING_BED: "Clearing bed",
    Phase.AWAITING_CLEAR: "Waiting for bed clear confirmation (start the queue to continue)",
    Phase.TRANSITION: "Running pre-print script",
    Phase.STARTING: "Starting print",
    Phase.PRINTING: "Printing",
}


def status(state: QueueState) -> tuple[str, str]:
    """(status, statusType) as Continuous Print words them."""
    if state.interrupted is not None:
        return (
            f"Interrupted: {state.interrupted.path} was printing when the server stopped; "
            "start the queue to print it again",
            "NEEDS_ACTION",
        )
    if not state.active:
        if state.notice:
            return state.notice, "NEEDS_ACTION"
        if state.phase in (Phase.STARTING, Phase.PRINTING):
            return "Inactive (active print continues unmanaged)", "NEEDS_ACTION"
        return "Inactive (click Start Managing)", "NORMAL"
    if state.phase is Phase.AWAITING_CLEAR:
        return _ACTIVE_STATUS[state.phase], "NEEDS_ACTION"
    return _ACTIVE_STATUS[state.phase], "NORMAL"


def cp_state(state: QueueState, profile: str) -> dict[str, object]:
    text, kind = status(state)
    return {
        "active": state.active,
        "status": text,
        "statusType": kind,
        "profile": profile,
        "queues": [
            {
                "name": QUEUE_NAME,
                "strategy": STRATEGY,
                "jobs": [job_dict(j, state.run) for j in state.jobs],
                "active_set": state.run.set_id if state.run is not None else None,
                "addr": None,
                "peers": [],
            }
        ],
        "interrupted": _run_dict(state.interrupted) if state.interrupted else None,
    }
