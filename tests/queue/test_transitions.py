"""The pure state machine: no printer, no server, no event loop."""

from __future__ import annotations

import pytest

from components.queue import views
from components.queue.effects import Notify, RunScript, Say, StartPrint, StartTimer
from components.queue.model import Phase, QueueJob, QueueSet, QueueState, Run
from components.queue.script import ScriptError, render
from components.queue.transitions import QueueError, SetSpec
from tests.queue.sim import Sim

AUTO = {"automatic_transition": True}


def job(job_id: int, *sets: tuple[int, str, int], count: int = 1, draft: bool = False) -> QueueJob:
    return QueueJob(
        id=job_id, name=f"job{job_id}", count=count, remaining=count, draft=draft,
        created=900.0,
        sets=tuple(QueueSet(id=i, path=p, count=c, remaining=c, added=900.0) for i, p, c in sets),
    )


def mr(sim: Sim) -> dict[str, object]:
    return views.moonraker_status(sim.state, sim.now)


# -- counts and order -------------------------------------------------------------------


def test_sets_and_job_passes_print_in_order_with_counts() -> None:
    state = QueueState(jobs=(job(1, (2, "a.gcode", 2), (3, "b.gcode", 1), count=2),
                             job(4, (5, "c.gcode", 1))), next_id=6)
    sim = Sim(state, **AUTO)
    sim.start()
    assert sim.run_all() == ["a.gcode", "a.gcode", "b.gcode",
                             "a.gcode", "a.gcode", "b.gcode", "c.gcode"]
    assert sim.state.jobs == ()  # finished jobs leave the queue
    assert sim.state.active and sim.state.phase is Phase.IDLE


def test_remaining_counts_drop_only_on_completion() -> None:
    sim = Sim(QueueState(jobs=(job(1, (2, "a.gcode", 3)),), next_id=3), **AUTO)
    sim.start()
    sim.print_one()
    sim.fire_timer()
    assert sim.state.jobs[0].sets[0].remaining == 2
    assert sim.state.jobs[0].sets[0].completed == 1
    # the copy being printed is no longer listed by Moonraker's view
    sim.print_started("a.gcode")
    assert [j["filename"] for j in mr(sim)["queued_jobs"]] == ["a.gcode"]  # type: ignore[index]


def test_draft_jobs_and_other_profiles_are_skipped() -> None:
    restricted = QueueSet(id=5, path="p.gcode", count=1, remaining=1, added=0.0,
                          profiles=("Other",))
    state = QueueState(jobs=(job(1, (2, "draft.gcode", 1), draft=True),
                             QueueJob(4, "j", 1, 1, False, 0.0, (restricted,)),
                             job(6, (7, "ok.gcode", 1))), next_id=8)
    sim = Sim(state, profile="Mine", **AUTO)
    sim.start()
    assert sim.run_all() == ["ok.gcode"]
    assert [j.id for j in sim.state.jobs] == [1, 4]


def test_post_jobs_one_set_of_one_each_and_moonraker_view() -> None:
    sim = Sim()
    sim.post_jobs(["a.gcode", "b.gcode"], False)
    assert [n.action for n in sim.take(Notify)] == ["jobs_added"]
    sim.now += 5
    status = mr(sim)
    assert status["queue_state"] == "paused"
    assert status["queued_jobs"] == [
        {"filename": "a.gcode", "job_id": "0000000000000002", "time_added": 1000.0,
         "time_in_queue": 5.0},
        {"filename": "b.gcode", "job_id": "0000000000000004", "time_added": 1000.0,
         "time_in_queue": 5.0},
    ]
    assert [(j.count, len(j.sets), j.sets[0].count) for j in sim.state.jobs] == [(1, 1, 1)] * 2
    sim.post_jobs(["c.gcode"], True)  # reset
    assert [j["filename"] for j in mr(sim)["queued_jobs"]] == ["c.gcode"]  # type: ignore[index]


def test_add_set_creates_a_draft_job_unless_told_and_extends_jobs() -> None:
    sim = Sim()
    first = sim.add_set(SetSpec(path="a.gcode", count=2))
    assert first["job_id"] == 1 and first["set_"]["count"] == 2
    assert sim.state.jobs[0].draft is True
    assert mr(sim)["queued_jobs"] == []  # a draft does not print
    second = sim.add_set(SetSpec(path="b.gcode", count=1, job=1, job_name="Pair",
                                 job_draft=False))
    assert second["job_id"] == 1
    assert [s.path for s in sim.state.jobs[0].sets] == ["a.gcode", "b.gcode"]
    assert sim.state.jobs[0].name == "Pair" and not sim.state.jobs[0].draft
    with pytest.raises(QueueError, match="Unknown job id: 99"):
        sim.add_set(SetSpec(path="c.gcode", count=1, job=99))


def test_jump_moves_a_set_and_its_job_to_the_front_without_notifying() -> None:
    sim = Sim()
    sim.post_jobs(["a.gcode", "b.gcode", "c.gcode"], False)
    sim.take(Notify)
    sim.jump(6, "0000000000000006")
    assert [j["filename"] for j in mr(sim)["queued_jobs"]] == [  # type: ignore[index]
        "c.gcode", "a.gcode", "b.gcode"]
    assert sim.take(Notify) == []
    with pytest.raises(QueueError, match="Invalid job id: nope"):
        sim.jump(None, "nope")


def test_delete_by_id_and_all() -> None:
    sim = Sim()
    sim.delete([2], False)  # empty queue: nothing, no notification
    assert sim.take(Notify) == []
    sim.post_jobs(["a.gcode", "b.gcode"], False)
    sim.take(Notify)
    sim.delete([2, 999], False)
    assert [n.action for n in sim.take(Notify)] == ["jobs_removed"]
    assert [j.name for j in sim.state.jobs] == ["b.gcode"]
    sim.delete([], True)
    assert sim.state.jobs == ()


# -- pause / resume / gate ------------------------------------------------------------------


def test_pause_between_prints_cancels_the_pending_step_and_start_resumes() -> None:
    sim = Sim(**AUTO)
    sim.post_jobs(["a.gcode", "b.gcode"], False)
    sim.start()
    assert views.queue_state(sim.state) == "starting"
    sim.print_one()
    timer = sim.only(StartTimer)
    assert views.queue_state(sim.state) == "loading"
    sim.pause()
    assert views.queue_state(sim.state) == "paused"
    sim.timer_fired(timer.token)  # stale: ignored
    assert not any(isinstance(e, StartPrint) for e in sim.effects)
    sim.start()
    assert sim.print_one() == "b.gcode"


def test_automatic_transition_off_pauses_once_a_print_is_loaded() -> None:
    sim = Sim()
    sim.post_jobs(["a.gcode", "b.gcode"], False)
    sim.start()
    sim.print_one()
    assert views.queue_state(sim.state) == "paused"
    assert not sim.take(StartTimer) and not sim.take(StartPrint)
    sim.start()  # the user starts the next one by hand
    assert sim.print_one() == "b.gcode"


def test_start_while_the_printer_is_busy_follows_moonraker() -> None:
    sim = Sim()
    sim.post_jobs(["a.gcode"], False)
    sim.idle = False
    sim.start()
    assert views.queue_state(sim.state) == "paused"  # automatic_transition off
    auto = Sim(**AUTO)
    auto.post_jobs(["a.gcode"], False)
    auto.idle = False
    auto.start()
    assert views.queue_state(auto.state) == "ready" and not auto.take(StartPrint)


def test_gate_holds_the_next_print_until_a_user_confirms() -> None:
    sim = Sim(clear_bed_gcode="G28\nSWEEP SPEED={external.speed}",
              job_transition_gcode="M117 next", require_bed_clear=True, **AUTO)
    sim.set_external({"speed": 50})
    sim.post_jobs(["a.gcode", "b.gcode"], False)
    sim.start()  # a manual start runs no transition G-code
    assert sim.print_one() == "a.gcode"
    sim.fire_timer()
    clear = sim.only(RunScript)
    assert clear.kind == "clear_bed" and clear.script == "G28\nSWEEP SPEED=50"
    sim.script_done(clear.token, None)
    assert sim.state.phase is Phase.AWAITING_CLEAR
    assert views.queue_state(sim.state) == "paused"
    assert views.status(sim.state)[1] == "NEEDS_ACTION"
    assert any("cleared" in s.line for s in sim.take(Say))
    assert not any(isinstance(e, (StartPrint, RunScript)) for e in sim.effects)
    sim.start()  # the confirmation
    transition = sim.finish_script()
    assert transition.kind == "transition" and transition.script == "M117 next"
    assert sim.print_one() == "b.gcode"


def test_gate_also_confirmed_by_set_active_after_a_pause() -> None:
    sim = Sim(require_bed_clear=True, **AUTO)
    sim.post_jobs(["a.gcode", "b.gcode"], False)
    sim.start()
    sim.print_one()
    sim.fire_timer()
    assert sim.state.phase is Phase.AWAITING_CLEAR
    sim.pause()  # set_active(false)
    sim.start()  # set_active(true)
    assert sim.print_one() == "b.gcode"


def test_failing_script_pauses_the_queue() -> None:
    sim = Sim(clear_bed_gcode="SWEEP", **AUTO)
    sim.post_jobs(["a.gcode", "b.gcode"], False)
    sim.start()
    sim.print_one()
    sim.fire_timer()
    sim.finish_script("Unknown command: SWEEP")
    assert not sim.state.active and "SWEEP" in sim.state.notice
    assert not sim.take(StartPrint)


def test_unknown_script_variable_pauses_instead_of_running() -> None:
    sim = Sim(clear_bed_gcode="SWEEP S={external.missing}", **AUTO)
    sim.post_jobs(["a.gcode", "b.gcode"], False)
    sim.start()
    sim.print_one()
    sim.fire_timer()
    assert not sim.take(RunScript) and not sim.state.active
    assert "external.missing" in sim.state.notice


def test_cancelled_or_failed_print_pauses_and_does_not_count() -> None:
    sim = Sim(**AUTO)
    sim.post_jobs(["a.gcode", "b.gcode"], False)
    sim.start()
    sim.print_one("cancelled")
    assert not sim.state.active and views.queue_state(sim.state) == "paused"
    assert not sim.take(StartTimer)
    assert [j["filename"] for j in mr(sim)["queued_jobs"]] == [  # type: ignore[index]
        "a.gcode", "b.gcode"]
    sim.start()
    assert sim.print_one("error") == "a.gcode"
    assert not sim.state.active


def test_foreign_print_completing_runs_the_between_prints_sequence() -> None:
    sim = Sim(require_bed_clear=True, **AUTO)
    sim.post_jobs(["a.gcode"], False)
    sim.idle = False
    sim.start()  # busy: ready, waits
    sim.print_started("manual.gcode")
    sim.idle = True
    sim.print_finished("manual.gcode", "completed")
    sim.fire_timer()
    assert sim.state.phase is Phase.AWAITING_CLEAR  # never onto the manual print's part
    assert not sim.take(StartPrint)


# -- files -----------------------------------------------------------------------------------


def test_deleted_file_marks_its_set_failed_and_the_queue_moves_on() -> None:
    state = QueueState(jobs=(job(1, (2, "a.gcode", 1), (3, "gone/b.gcode", 2)),
                             job(4, (5, "c.gcode", 1))), next_id=6)
    sim = Sim(state, **AUTO)
    sim.files_removed(folders=["gone"])
    failed = sim.state.jobs[0].sets[1]
    assert failed.failed == "gone was deleted" and failed.remaining == 2
    assert "gone/b.gcode" in sim.only(Say).line
    assert [n.action for n in sim.take(Notify)] == ["jobs_removed"]
    sim.start()
    assert sim.run_all() == ["a.gcode", "c.gcode"]
    # the job with the failed set stays, for users to see why
    cp = views.cp_state(sim.state, "")["queues"][0]["jobs"]
    assert [(j["id"], j["sets"][1].get("missing_file")) for j in cp] == [(1, True)]


def test_file_missing_at_start_fails_the_set_and_starts_the_next() -> None:
    sim = Sim(**AUTO)
    sim.post_jobs(["a.gcode", "b.gcode"], False)
    sim.start()
    start = sim.only(StartPrint)
    sim.start_result(start.token, "File a.gcode does not exist", True)
    assert "a.gcode no longer exists" in sim.only(Say).line
    assert sim.print_one() == "b.gcode"


def test_start_error_pauses() -> None:
    sim = Sim(**AUTO)
    sim.post_jobs(["a.gcode"], False)
    sim.start()
    start = sim.only(StartPrint)
    sim.start_result(start.token, "Printer not ready", False)
    assert not sim.state.active and sim.state.run is None
    assert "Printer not ready" in sim.only(Say).line


def test_moved_files_are_followed() -> None:
    sim = Sim()
    sim.post_jobs(["old/a.gcode", "b.gcode"], False)
    sim.file_moved("old", "new", True)
    sim.file_moved("b.gcode", "x/b.gcode", False)
    assert [j.sets[0].path for j in sim.state.jobs] == ["new/a.gcode", "x/b.gcode"]


# -- restarts ----------------------------------------------------------------------------------


def test_interrupted_run_is_reported_kept_and_waits_for_the_user() -> None:
    before = QueueState(jobs=(job(1, (2, "a.gcode", 3)),), next_id=3,
                        run=Run(1, 2, "a.gcode", 950.0, "job1"))
    sim = Sim(before, load_on_startup=True, **AUTO)
    sim.restore()
    assert sim.state.interrupted == before.run and sim.state.run is None
    assert not sim.state.active and "interrupted" in sim.only(Say).line
    assert views.status(sim.state)[0].startswith("Interrupted: a.gcode")
    assert views.cp_state(sim.state, "")["interrupted"]["path"] == "a.gcode"
    sim.printer_state("ready")  # load_on_startup does not override it
    assert not sim.take(StartTimer) and not sim.take(StartPrint)
    assert sim.state.jobs[0].sets[0].remaining == 3  # not counted, not skipped
    sim.start()
    assert sim.state.interrupted is None
    assert sim.print_one() == "a.gcode"
    assert sim.state.jobs[0].sets[0].remaining == 2


def test_load_on_startup_loads_when_the_printer_is_ready() -> None:
    sim = Sim(QueueState(jobs=(job(1, (2, "a.gcode", 1)),), next_id=3), load_on_startup=True)
    sim.restore()
    sim.printer_state("startup")
    assert not sim.effects
    sim.printer_state("ready")
    assert views.queue_state(sim.state) == "loading"
    sim.fire_timer()
    assert sim.print_one() == "a.gcode"


def test_printer_going_away_pauses_between_prints() -> None:
    sim = Sim(**AUTO)
    sim.post_jobs(["a.gcode", "b.gcode"], False)
    sim.start()
    sim.print_one()
    sim.printer_state("shutdown")
    assert not sim.state.active and sim.state.phase is Phase.IDLE


def test_stale_results_are_ignored() -> None:
    sim = Sim(**AUTO)
    sim.post_jobs(["a.gcode"], False)
    sim.start()
    start = sim.only(StartPrint)
    before = sim.state
    sim.start_result(start.token - 1, "late", False)
    sim.script_done(start.token - 1, None)
    assert sim.state == before


def test_state_changed_notifications_carry_no_queue() -> None:
    sim = Sim()
    sim.post_jobs(["a.gcode"], False)
    sim.take(Notify)
    sim.idle = False
    sim.pause()
    assert sim.take(Notify) == []  # already paused: nothing changed
    auto = Sim(**AUTO)
    auto.idle = False
    auto.start()
    assert [n.action for n in auto.take(Notify)] == ["state_changed"]


# -- scripts -----------------------------------------------------------------------------------


def test_render_external_variables() -> None:
    data = {"a": 1, "b": {"c": "x"}, "f": 2.0, "t": True}
    assert render("M117 {external.a} {external.b.c} {external.f} {external.t} {other}",
                  data) == "M117 1 x 2 1 {other}"
    with pytest.raises(ScriptError, match=r"unknown variable external\.zz"):
        render("{external.zz}", data)
    with pytest.raises(ScriptError, match="not a single value"):
        render("{external.b}", data)
