"""The queue's data: jobs made of sets, each with counts, and the run in progress.

Plain frozen values - no I/O, no clock, no asyncio. `transitions.py` derives new values
from old ones; `store.py` writes them; `views.py` shapes them for the two APIs.

Counting follows the Continuous Print plugin: a set prints `count` copies per pass of
its job, a job makes `count` passes; `remaining` counts what is left and drops only when
a print *completes* (a cancelled, failed or interrupted print does not count).
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace

# where a job came from: Moonraker's post_job or the Continuous Print API
ORIGIN_JOB_QUEUE = "job_queue"
ORIGIN_CONTINUOUS_PRINT = "continuousprint"


class Phase(enum.Enum):
    """Where the queue stands between prints."""

    IDLE = "idle"
    WAITING_START = "waiting_start"  # load_on_startup: a moment after the printer is ready
    WAITING_DELAY = "waiting_delay"  # job_transition_delay after a completed print
    CLEARING_BED = "clearing_bed"  # [queue] clear_bed_gcode running
    AWAITING_CLEAR = "awaiting_clear"  # the gate: a user must confirm the bed is clear
    TRANSITION = "transition"  # [job_queue] job_transition_gcode running
    STARTING = "starting"  # start_print requested
    PRINTING = "printing"  # our print runs


LOADING_PHASES = frozenset(
    {Phase.WAITING_START, Phase.WAITING_DELAY, Phase.CLEARING_BED, Phase.TRANSITION}
)


@dataclass(frozen=True, slots=True)
class QueueSet:
    id: int
    path: str
    count: int
    remaining: int
    added: float
    completed: int = 0
    sd: bool = False
    materials: tuple[str, ...] = ()
    profiles: tuple[str, ...] = ()
    # why this set can no longer print (its file was deleted); None while it can
    failed: str | None = None

    @property
    def live(self) -> bool:
        return self.failed is None

    def printable(self, profile: str) -> bool:
        """Continuous Print's rule: no profiles listed, or ours among them."""
        return self.live and (not self.profiles or profile in self.profiles)


@dataclass(frozen=True, slots=True)
class QueueJob:
    id: int
    name: str
    count: int
    remaining: int
    draft: bool
    created: float
    sets: tuple[QueueSet, ...]
    origin: str = ORIGIN_CONTINUOUS_PRINT

    def find_set(self, set_id: int) -> QueueSet | None:
        return next((s for s in self.sets if s.id == set_id), None)

    def with_set(self, new: QueueSet) -> QueueJob:
        return replace(self, sets=tuple(new if s.id == new.id else s for s in self.sets))


@dataclass(frozen=True, slots=True)
class Run:
    """A print the queue started: open from start_print until JobFinished."""

    job_id: int
    set_id: int
    path: str
    started: float
    job_name: str = ""


@dataclass(frozen=True, slots=True)
class QueueState:
    jobs: tuple[QueueJob, ...] = ()
    # may the queue start the next print by itself (Moonraker: queue_state != paused)
    active: bool = False
    phase: Phase = Phase.IDLE
    run: Run | None = None
    # the run that was open when the server stopped; set until a user resumes
    interrupted: Run | None = None
    # next id for a job or a set (one sequence: Moonraker job ids name sets)
    next_id: int = 1
    # identifies the pending timer/script/start; results carrying an older one are stale
    token: int = 0
    # Continuous Print's automation/external data, for the scripts
    external: Mapping[str, object] = field(default_factory=dict)
    # why the queue paused by itself, for the status line; "" when nothing to report
    notice: str = ""
    # load_on_startup still to do in this server run
    startup_load: bool = False

    def find(self, set_id: int) -> tuple[QueueJob, QueueSet] | None:
        for job in self.jobs:
            found = job.find_set(set_id)
            if found is not None:
                return job, found
        return None

    def find_job(self, job_id: int) -> QueueJob | None:
        return next((j for j in self.jobs if j.id == job_id), None)

    def replace_job(self, new: QueueJob) -> QueueState:
        return replace(self, jobs=tuple(new if j.id == new.id else j for j in self.jobs))

    def all_sets(self) -> Iterator[tuple[QueueJob, QueueSet]]:
        for job in self.jobs:
            for s in job.sets:
                yield job, s


def next_set(state: QueueState, profile: str) -> tuple[QueueJob, QueueSet] | None:
    """The next print in order: first job (not draft, passes left) with a printable set
    that has copies left in this pass."""
    for job in state.jobs:
        if job.draft or job.remaining <= 0:
            continue
        for s in job.sets:
            if s.remaining > 0 and s.printable(profile):
                return job, s
    return None


def normalize(state: QueueState, profile: str) -> QueueState:
    """Roll jobs whose pass is done over to their next pass; drop finished jobs.

    A finished job is removed unless one of its sets failed (kept so users see why);
    drafts are left alone. The job of the open run is not touched until it ends."""
    running = state.run.job_id if state.run is not None else None
    jobs: list[QueueJob] = []
    for job in state.jobs:
        if job.draft or job.id == running:
            jobs.append(job)
            continue
        rolled = _roll_over(job, profile)
        if rolled is not None:
            jobs.append(rolled)
    if len(jobs) == len(state.jobs) and all(a is b for a, b in zip(jobs, state.jobs, strict=True)):
        return state
    return replace(state, jobs=tuple(jobs))


def _roll_over(job: QueueJob, profile: str) -> QueueJob | None:
    printable = [s for s in job.sets if s.printable(profile)]
    if any(s.remaining > 0 for s in printable):
        return job
    if not printable:
        # nothing this printer can do: keep it visible if it has a failure or
        # profile-restricted sets, drop an empty shell
        return job if job.sets else None
    if job.remaining > 1:
        sets = tuple(replace(s, remaining=s.count) if s.live else s for s in job.sets)
        return replace(job, remaining=job.remaining - 1, sets=sets)
    if any(not s.live for s in job.sets):
        return job if job.remaining == 0 else replace(job, remaining=0)
    return None
