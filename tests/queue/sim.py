"""Drives the pure state transitions by hand: a fake clock, the effects collected in order,
the printer's side played by the test (no printer, no server, no asyncio)."""

from __future__ import annotations

from typing import Any

from components.queue.config import Policy
from components.queue.effects import Effect, RunScript, StartPrint, StartTimer, Step
from components.queue.model import QueueState
from components.queue.transitions import QueueTransitions


class Sim:
    def __init__(self, state: QueueState | None = None, **policy: Any) -> None:
        self.now = 1000.0
        self.transitions = QueueTransitions(Policy(**policy), lambda: self.now)
        self.state = state or QueueState()
        self.effects: list[Effect] = []
        self.idle = True  # the printer is free
        self.printed: list[str] = []

    def __getattr__(self, name: str) -> Any:
        """sim.pause() == transitions.pause(state) applied; printer_idle filled in."""
        method = getattr(self.transitions, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            if name in _NEEDS_IDLE:
                kwargs.setdefault("printer_idle", self.idle)
            step: Step = method(self.state, *args, **kwargs)
            self.state = step.state
            self.effects.extend(step.effects)
            return step.result

        return call

    def take(self, kind: type[Any]) -> list[Any]:
        found = [e for e in self.effects if isinstance(e, kind)]
        self.effects = [e for e in self.effects if not isinstance(e, kind)]
        return found

    def only(self, kind: type[Any]) -> Any:
        found = self.take(kind)
        assert len(found) == 1, f"expected one {kind.__name__}, got {found}"
        return found[0]

    # -- the printer's side ----------------------------------------------------------

    def print_one(self, status: str = "completed") -> str:
        """The pending StartPrint succeeds, prints and ends with `status`."""
        start: StartPrint = self.only(StartPrint)
        self.idle = False
        self.print_started(start.filename)
        self.start_result(start.token, None, False)
        self.now += 60
        self.idle = True
        self.print_finished(start.filename, status)
        self.printed.append(start.filename)
        return start.filename

    def fire_timer(self) -> None:
        timer: StartTimer = self.only(StartTimer)
        self.now += timer.delay
        self.timer_fired(timer.token)

    def finish_script(self, error: str | None = None) -> RunScript:
        script: RunScript = self.only(RunScript)
        self.script_done(script.token, error)
        return script

    def run_all(self, limit: int = 50) -> list[str]:
        """Print until nothing more starts (automatic transition, no scripts)."""
        for _ in range(limit):
            if not any(isinstance(e, StartPrint) for e in self.effects):
                break
            self.print_one()
            if any(isinstance(e, StartTimer) for e in self.effects):
                self.fire_timer()
        return self.printed


_NEEDS_IDLE = {"post_jobs", "start", "add_set", "start_result", "print_finished",
               "timer_fired", "script_done", "printer_state"}
