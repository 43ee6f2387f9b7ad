"""The queue's transitions: a pure, clock-injected state machine.

Every transition takes the current `QueueState` (plus what it needs to know of the
world, e.g. whether the printer is free) and returns a `Step`: the new state, the
effects to perform, and a reply. No I/O, no asyncio: the adapter does those.

Between prints (queue active, a print completed):
    job_transition_delay -> clear_bed_gcode -> [gate: require_bed_clear] ->
    job_transition_gcode -> next print
A cancelled or failed print pauses the queue; so does anything unexpected (a script
error, a print that cannot start, the printer going away).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from . import views
from .config import Policy
from .effects import Effect, Notify, RunScript, Say, StartPrint, StartTimer, Step
from .model import (
    LOADING_PHASES,
    ORIGIN_JOB_QUEUE,
    Phase,
    QueueJob,
    QueueSet,
    QueueState,
    Run,
    next_set,
    normalize,
)
from .script import ScriptError, render

# phases the queue can leave at once when paused (nothing started on the printer yet)
_CANCELLABLE = LOADING_PHASES | {Phase.AWAITING_CLEAR}
_NOT_READY = frozenset({"shutdown", "error", "disconnected"})


class QueueError(Exception):
    """A request the queue refuses; the message is for the user."""


@dataclass(frozen=True, slots=True)
class SetSpec:
    """Continuous Print's set/add arguments, checked by the API adapter."""

    path: str
    count: int
    sd: bool = False
    materials: tuple[str, ...] = ()
    profiles: tuple[str, ...] = ()
    job: int | None = None
    job_name: str | None = None
    job_draft: bool | None = None


def _under(path: str, folder: str) -> bool:
    return path.startswith(folder.rstrip("/") + "/")


class QueueTransitions:
    def __init__(self, policy: Policy, clock: Callable[[], float]) -> None:
        self.policy = policy
        self.clock = clock

    # -- helpers ---------------------------------------------------------------------

    def _finish(
        self,
        old: QueueState,
        new: QueueState,
        effects: Iterable[Effect] = (),
        *,
        action: str | None = None,
        result: object = None,
        quiet: bool = False,
    ) -> Step:
        """Normalize, then add the notification the change calls for."""
        new = normalize(new, self.policy.profile)
        out = list(effects)
        if not quiet:
            listed = views.visible_ids(new) != views.visible_ids(old)
            if action is None and new.phase is Phase.STARTING and old.phase is not new.phase:
                # as Moonraker: "starting" now, the shorter list with job_loaded
                action = "state_changed"
            if action is None and listed:
                grew = len(views.visible_ids(new)) >= len(views.visible_ids(old))
                action = "jobs_added" if grew else "jobs_removed"
            if action is None and views.queue_state(new) != views.queue_state(old):
                action = "state_changed"
            if action is not None:
                out.append(Notify(action))
        return Step(new, tuple(out), result)

    def _halt(self, s: QueueState, why: str) -> tuple[QueueState, list[Effect]]:
        """Pause by itself, saying why. A print already started is left alone."""
        phase = s.phase if s.phase in (Phase.STARTING, Phase.PRINTING) else Phase.IDLE
        s = replace(s, active=False, phase=phase, token=s.token + 1, notice=f"Paused: {why}")
        return s, [Say(f"// Queue paused: {why}")]

    def _script(
        self, s: QueueState, kind: str, text: str, phase: Phase
    ) -> tuple[QueueState, list[Effect]]:
        try:
            script = render(text, s.external)
        except ScriptError as exc:
            return self._halt(s, f"{kind} script: {exc}")
        token = s.token + 1
        return replace(s, phase=phase, token=token), [RunScript(token, kind, script)]

    def _begin(self, s: QueueState, job: QueueJob, qs: QueueSet) -> tuple[QueueState, list[Effect]]:
        token = s.token + 1
        run = Run(job.id, qs.id, qs.path, self.clock(), job.name)
        s = replace(s, phase=Phase.STARTING, token=token, run=run, notice="")
        return s, [StartPrint(token, qs.path)]

    def _advance(
        self, s: QueueState, printer_idle: bool, *, transition: bool
    ) -> tuple[QueueState, list[Effect]]:
        """Active, bed clear: start the next print if there is one and the printer is free."""
        s = replace(s, phase=Phase.IDLE)
        nxt = next_set(s, self.policy.profile)
        if nxt is None or not printer_idle:
            return s, []
        if transition and self.policy.job_transition_gcode:
            return self._script(s, "transition", self.policy.job_transition_gcode,
                                Phase.TRANSITION)
        return self._begin(s, *nxt)

    def _after_clear(self, s: QueueState, printer_idle: bool) -> tuple[QueueState, list[Effect]]:
        if self.policy.require_bed_clear:
            s = replace(s, phase=Phase.AWAITING_CLEAR)
            return s, [Say("// Queue: waiting for the bed to be cleared; "
                           "start the queue once it is clear")]
        return self._advance(s, printer_idle, transition=True)

    def _new_id(self, s: QueueState) -> tuple[QueueState, int]:
        return replace(s, next_id=s.next_id + 1), s.next_id

    # -- start-up ---------------------------------------------------------------------

    def restore(self, state: QueueState) -> Step:
        """The state loaded from storage at start-up. An open run means the server
        stopped mid-print: report it, keep its count, stay paused until a user starts."""
        run = state.run
        s = replace(
            state,
            active=False,
            phase=Phase.IDLE,
            run=None,
            interrupted=run or state.interrupted,
            token=0,
            notice="",
            startup_load=self.policy.load_on_startup,
        )
        effects: list[Effect] = []
        if s.interrupted is not None:
            effects.append(Say(self.interrupted_line(s.interrupted)))
        return Step(normalize(s, self.policy.profile), tuple(effects))

    @staticmethod
    def interrupted_line(run: Run) -> str:
        return (f"// Queue: the print of {run.path} was interrupted (the server stopped "
                "while it printed). It is not counted; the queue stays paused until "
                "you start it.")

    # -- Moonraker job_queue ------------------------------------------------------------

    def post_jobs(
        self, s: QueueState, filenames: Sequence[str], reset: bool, printer_idle: bool
    ) -> Step:
        old = s
        now = self.clock()
        if reset:
            s = replace(s, jobs=())
        jobs = list(s.jobs)
        for name in filenames:
            s, job_id = self._new_id(s)
            s, set_id = self._new_id(s)
            qset = QueueSet(id=set_id, path=name, count=1, remaining=1, added=now)
            jobs.append(QueueJob(id=job_id, name=name, count=1, remaining=1, draft=False,
                                 created=now, sets=(qset,), origin=ORIGIN_JOB_QUEUE))
        s = replace(s, jobs=tuple(jobs))
        effects: list[Effect] = []
        if s.active and s.phase is Phase.IDLE:
            s, effects = self._advance(s, printer_idle, transition=False)
        return self._finish(old, s, effects, action="jobs_added")

    def delete(self, s: QueueState, set_ids: Iterable[int], everything: bool) -> Step:
        """delete_job: Moonraker ids name sets; a job left without sets goes too."""
        if not s.jobs:
            return Step(s)
        ids = set(set_ids)
        if not everything and not ids:
            return Step(s)
        if everything:
            jobs: tuple[QueueJob, ...] = ()
        else:
            kept = (replace(j, sets=tuple(x for x in j.sets if x.id not in ids))
                    for j in s.jobs)
            jobs = tuple(j for j in kept if j.sets)
        return self._finish(s, replace(s, jobs=jobs), action="jobs_removed")

    def jump(self, s: QueueState, set_id: int | None, shown: str) -> Step:
        """Move the set's job to the front, and the set to the front of its job.
        Moonraker sends no notification for a jump; neither do we."""
        found = s.find(set_id) if set_id is not None else None
        if found is None:
            raise QueueError(f"Invalid job id: {shown}")
        job, qs = found
        job = replace(job, sets=(qs, *(x for x in job.sets if x.id != qs.id)))
        jobs = (job, *(j for j in s.jobs if j.id != job.id))
        return self._finish(s, replace(s, jobs=jobs), quiet=True)

    def pause(self, s: QueueState) -> Step:
        """Stop starting prints; a print in progress goes on."""
        old = s
        s = replace(s, active=False, notice="")
        if s.phase in _CANCELLABLE:
            s = replace(s, phase=Phase.IDLE, token=s.token + 1)
        return self._finish(old, s)

    def start(self, s: QueueState, printer_idle: bool) -> Step:
        """A user starts (or resumes) the queue: this is also the confirmation that the
        bed is clear, and the resumption after an interrupted run."""
        old = s
        s = replace(s, interrupted=None, notice="")
        effects: list[Effect] = []
        if s.phase is Phase.AWAITING_CLEAR:
            s, effects = self._advance(replace(s, active=True), printer_idle, transition=True)
        elif s.phase in LOADING_PHASES or s.phase is Phase.STARTING:
            s = replace(s, active=True)
        elif s.phase is Phase.PRINTING or not printer_idle:
            # as Moonraker: while the printer is busy (or away) the queue only becomes
            # ready with automatic_transition; otherwise it stays paused
            s = replace(s, active=self.policy.automatic_transition)
        else:
            s, effects = self._advance(replace(s, active=True), printer_idle, transition=False)
        return self._finish(old, s, effects)

    # -- Continuous Print -------------------------------------------------------------

    def add_set(self, s: QueueState, spec: SetSpec, printer_idle: bool) -> Step:
        old = s
        now = self.clock()
        if spec.job is not None:
            job = s.find_job(spec.job)
            if job is None:
                raise QueueError(f"Unknown job id: {spec.job}")
            if spec.job_name is not None:
                job = replace(job, name=spec.job_name)
            if spec.job_draft is not None:
                job = replace(job, draft=spec.job_draft)
        else:
            s, job_id = self._new_id(s)
            draft = True if spec.job_draft is None else spec.job_draft
            job = QueueJob(id=job_id, name=spec.job_name or "", count=1, remaining=1,
                           draft=draft, created=now, sets=())
        s, set_id = self._new_id(s)
        qs = QueueSet(id=set_id, path=spec.path, count=spec.count, remaining=spec.count,
                      added=now, sd=spec.sd, materials=spec.materials,
                      profiles=spec.profiles)
        job = replace(job, sets=(*job.sets, qs))
        known = s.find_job(job.id) is not None
        s = s.replace_job(job) if known else replace(s, jobs=(*s.jobs, job))
        effects: list[Effect] = []
        if s.active and s.phase is Phase.IDLE:
            s, effects = self._advance(s, printer_idle, transition=False)
        result = {"job_id": job.id, "set_": views.set_dict(qs)}
        return self._finish(old, s, effects, result=result)

    def set_external(self, s: QueueState, data: Mapping[str, object]) -> Step:
        return Step(replace(s, external=dict(data)), (), "OK")

    # -- the printer ------------------------------------------------------------------

    def start_result(self, s: QueueState, token: int, error: str | None,
                     missing: bool, printer_idle: bool) -> Step:
        """start_print returned (error None) or failed; `missing`: the file is gone."""
        if token != s.token or s.run is None:
            return Step(s)
        old, run = s, s.run
        if error is None:
            if s.phase is Phase.STARTING:
                s = replace(s, phase=Phase.PRINTING)
            if not self.policy.automatic_transition:
                s = replace(s, active=False)  # Moonraker: paused once a job is loaded
            return self._finish(old, s, action="job_loaded")
        s = replace(s, run=None, phase=Phase.IDLE)
        if missing:
            s, effects = self._fail_sets(s, lambda x: x.id == run.set_id,
                                         f"{run.path} no longer exists")
            if s.active:
                s, more = self._advance(s, printer_idle, transition=False)
                effects += more
            return self._finish(old, s, effects)
        s, effects = self._halt(s, f"could not start {run.path}: {error}")
        return self._finish(old, s, effects)

    def print_started(self, s: QueueState, filename: str) -> Step:
        filename = filename.lstrip("/")
        if s.run is not None and s.run.path == filename:
            if s.phase is Phase.STARTING:
                return self._finish(s, replace(s, phase=Phase.PRINTING))
            return Step(s)
        if s.phase in _CANCELLABLE:
            new, effects = self._halt(s, f"{filename} was started outside the queue")
            return self._finish(s, new, effects)
        return Step(s)

    def print_finished(self, s: QueueState, filename: str, status: str,
                       printer_idle: bool) -> Step:
        old = s
        filename = filename.lstrip("/")
        effects: list[Effect] = []
        run = s.run
        if run is not None and run.path == filename:
            s = replace(s, run=None, phase=Phase.IDLE)
            if status == "completed":
                s = self._count(s, run)
        if status != "completed":
            if s.active or s.phase in _CANCELLABLE:
                s, effects = self._halt(s, f"the print of {filename} ended: {status}")
            return self._finish(old, s, effects)
        if not s.active:
            return self._finish(old, s)
        if not self.policy.automatic_transition:
            return self._finish(old, replace(s, active=False, phase=Phase.IDLE))
        token = s.token + 1
        s = replace(s, phase=Phase.WAITING_DELAY, token=token)
        return self._finish(old, s, [StartTimer(token, self.policy.job_transition_delay)])

    def _count(self, s: QueueState, run: Run) -> QueueState:
        found = s.find(run.set_id)
        if found is None:
            return s  # deleted while printing
        job, qs = found
        qs = replace(qs, remaining=max(0, qs.remaining - 1), completed=qs.completed + 1)
        return s.replace_job(job.with_set(qs))

    def timer_fired(self, s: QueueState, token: int, printer_idle: bool) -> Step:
        if token != s.token:
            return Step(s)
        old = s
        effects: list[Effect] = []
        if s.phase is Phase.WAITING_START:
            s, effects = self._advance(s, printer_idle, transition=False)
        elif s.phase is Phase.WAITING_DELAY:
            if self.policy.clear_bed_gcode:
                s, effects = self._script(s, "clear_bed", self.policy.clear_bed_gcode,
                                          Phase.CLEARING_BED)
            else:
                s, effects = self._after_clear(s, printer_idle)
        return self._finish(old, s, effects)

    def script_done(self, s: QueueState, token: int, error: str | None,
                    printer_idle: bool) -> Step:
        if token != s.token:
            return Step(s)
        old = s
        effects: list[Effect] = []
        kind = "clear_bed" if s.phase is Phase.CLEARING_BED else "transition"
        if error is not None:
            s, effects = self._halt(s, f"{kind} script failed: {error}")
        elif s.phase is Phase.CLEARING_BED:
            s, effects = self._after_clear(s, printer_idle)
        elif s.phase is Phase.TRANSITION:
            nxt = next_set(s, self.policy.profile)
            if nxt is None:
                s = replace(s, phase=Phase.IDLE)
            elif not printer_idle:
                s, effects = self._halt(s, "the printer is not free after the transition")
            else:
                s, effects = self._begin(s, *nxt)
        return self._finish(old, s, effects)

    def printer_state(self, s: QueueState, pstate: str, printer_idle: bool) -> Step:
        old = s
        effects: list[Effect] = []
        if pstate == "ready":
            if s.interrupted is not None:
                effects.append(Say(self.interrupted_line(s.interrupted)))
            if s.startup_load:
                s = replace(s, startup_load=False)
                if (s.interrupted is None and s.phase is Phase.IDLE
                        and next_set(s, self.policy.profile) is not None):
                    token = s.token + 1
                    s = replace(s, active=True, phase=Phase.WAITING_START, token=token)
                    effects.append(StartTimer(token, self.policy.startup_delay))
                    return self._finish(old, s, effects)
            if s.active and s.phase is Phase.IDLE:
                s, more = self._advance(s, printer_idle, transition=False)
                effects += more
        elif pstate in _NOT_READY and (s.active or s.phase in _CANCELLABLE):
            s, effects = self._halt(s, f"printer {pstate}")
        return self._finish(old, s, effects)

    # -- files ------------------------------------------------------------------------

    def _fail_sets(self, s: QueueState, match: Callable[[QueueSet], bool],
                   why: str) -> tuple[QueueState, list[Effect]]:
        effects: list[Effect] = []
        jobs: list[QueueJob] = []
        for job in s.jobs:
            sets = []
            for qs in job.sets:
                if qs.live and match(qs):
                    qs = replace(qs, failed=why)
                    label = f"job '{job.name}'" if job.name else f"job {job.id}"
                    effects.append(Say(f"// Queue: {why}; its set ({qs.path}, {label}) "
                                       "is marked failed and skipped"))
                sets.append(qs)
            jobs.append(replace(job, sets=tuple(sets)))
        return replace(s, jobs=tuple(jobs)), effects

    def files_removed(self, s: QueueState, files: Iterable[str] = (),
                      folders: Iterable[str] = ()) -> Step:
        gone = {f.lstrip("/") for f in files}
        dirs = [d.strip("/") for d in folders]

        def match(qs: QueueSet) -> bool:
            return qs.path in gone or any(_under(qs.path, d) for d in dirs)

        new = s
        effects: list[Effect] = []
        if any(match(qs) for _, qs in s.all_sets()):
            what = ", ".join(sorted(gone | set(dirs)))
            new, effects = self._fail_sets(s, match, f"{what} was deleted")
        return self._finish(s, new, effects)

    def file_moved(self, s: QueueState, source: str, dest: str, folder: bool) -> Step:
        """A file or folder moved within gcodes: the sets follow it."""
        source, dest = source.strip("/"), dest.strip("/")

        def moved(path: str) -> str:
            if path == source and not folder:
                return dest
            if folder and _under(path, source):
                return dest + path[len(source):]
            return path

        jobs = tuple(replace(j, sets=tuple(replace(x, path=moved(x.path)) for x in j.sets))
                     for j in s.jobs)
        run = s.run
        if run is not None and moved(run.path) != run.path:
            run = replace(run, path=moved(run.path))
        return self._finish(s, replace(s, jobs=jobs, run=run))
