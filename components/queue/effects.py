"""What a transition asks the outside world to do, as plain values.

The adapter (component.py) persists the new state first, then performs these in order.
Results of the slow ones come back as transitions carrying the same `token`; a result
whose token is no longer the state's is stale and ignored.
"""

from __future__ import annotations

from dataclasses import dataclass

from .model import QueueState


@dataclass(frozen=True, slots=True)
class Notify:
    """notify_job_queue_changed with this action (jobs_added, jobs_removed, job_loaded,
    state_changed) and the queue as it is after the transition."""

    action: str


@dataclass(frozen=True, slots=True)
class Say:
    """A console line (notify_gcode_response), already starting with "// "."""

    line: str


@dataclass(frozen=True, slots=True)
class StartTimer:
    token: int
    delay: float


@dataclass(frozen=True, slots=True)
class RunScript:
    token: int
    kind: str  # "clear_bed" | "transition"
    script: str


@dataclass(frozen=True, slots=True)
class StartPrint:
    token: int
    filename: str


Effect = Notify | Say | StartTimer | RunScript | StartPrint


@dataclass(frozen=True, slots=True)
class Step:
    """A transition's outcome: the new state, what to do, and a reply for the caller."""

    state: QueueState
    effects: tuple[Effect, ...] = ()
    result: object = None
