"""The adapter around the pure state transitions: one lock, storage first, then effects.

Every change goes: transition (pure) -> persisted (awaited) -> state swapped -> effects
performed -> caller answered. Slow effects (timers, scripts, starting a print) run as
tasks that come back through `dispatch` with their token.

Listens to (server.events): JobStarted, JobFinished, PrinterStateChanged (printer
component), FilesChanged (files component). Calls the printer through PrinterApi and the
files through FilesApi. Emits JobQueueChanged (api.py: power devices switch on when jobs
are added); websocket notifications: notify_job_queue_changed, notify_gcode_response.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine, Iterable
from typing import TYPE_CHECKING, Any

from components.files.api import FilesApi, FilesChanged
from components.printer.api import JobFinished, JobStarted, PrinterApi, PrinterStateChanged
from gateway.component import BaseComponent
from gateway.errors import BadRequest, NotFound, ServerError
from gateway.tasks import Background

from . import views
from .api import JobQueueChanged
from .config import JobQueueSection, Policy, QueueSection
from .effects import Effect, Notify, RunScript, Say, StartPrint, StartTimer, Step
from .model import QueueState
from .store import QueueStore
from .transitions import QueueError, QueueTransitions

if TYPE_CHECKING:
    from gateway.api import ServerApi

log = logging.getLogger(__name__)


class QueueComponent(BaseComponent):
    moonraker_names = ("job_queue",)

    def __init__(self, server: ServerApi, clock: Callable[[], float] = time.time) -> None:
        self.server = server
        self.clock = clock
        self.policy = Policy.from_sections(
            server.config.section("job_queue", JobQueueSection),
            server.config.section("queue", QueueSection),
        )
        self.transitions = QueueTransitions(self.policy, clock)
        self.store = QueueStore(server.database)
        self.state = QueueState()
        self._lock = asyncio.Lock()
        self._closed = False
        self._timers: dict[int, asyncio.TimerHandle] = {}
        self._tasks = Background("queue task", logger=log)
        self._unsubscribe: list[Callable[[], None]] = []
        from .cp_endpoints import ContinuousPrintApi
        from .endpoints import JobQueueEndpoints

        JobQueueEndpoints(self).register()
        ContinuousPrintApi(self).register()

    # -- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        async with self._lock:
            loaded = await self.store.load()
            step = self.transitions.restore(loaded)
            await self.store.save(loaded, step.state)
            self.state = step.state
            if step.state.interrupted is not None:
                log.warning("queue: %s was printing when the server stopped; queue paused",
                            step.state.interrupted.path)
            self._perform(step.effects)
        events = self.server.events
        self._unsubscribe = [
            events.subscribe(JobStarted, self._on_job_started),
            events.subscribe(JobFinished, self._on_job_finished),
            events.subscribe(PrinterStateChanged, self._on_printer_state),
            events.subscribe(FilesChanged, self._on_files_changed),
        ]
        printer = self.printer()
        if printer is not None and printer.state == "ready":
            # ready before we listened: load_on_startup must not miss it
            await self._printer_state("ready")

    async def stop(self) -> None:
        """An open run stays open in storage: the next start reports it interrupted."""
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        async with self._lock:
            self._closed = True
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()
        await self._tasks.cancel()

    # -- the one way to change state -------------------------------------------------

    async def dispatch(self, transition: Callable[[QueueState], Step]) -> object:
        """Run a transition under the lock; persist, swap, perform. QueueError -> 400."""
        async with self._lock:
            if self._closed:
                raise ServerError("The job queue is shutting down", 503)
            try:
                step = transition(self.state)
            except QueueError as exc:
                raise BadRequest(str(exc)) from None
            await self.store.save(self.state, step.state)
            self.state = step.state
            self._perform(step.effects)
            return step.result

    async def _dispatch_event(self, transition: Callable[[QueueState], Step]) -> None:
        try:
            await self.dispatch(transition)
        except ServerError as exc:
            if not self._closed:
                log.warning("queue: %s", exc.message)

    # -- what the transitions need to know -------------------------------------------

    def printer(self) -> PrinterApi | None:
        return self.server.find(PrinterApi)

    def printer_idle(self) -> bool:
        """Ready, and not printing or paused (Moonraker's _check_can_print)."""
        printer = self.printer()
        if printer is None or printer.state != "ready":
            return False
        try:
            status = printer.query_status({"print_stats": ["state"]})
        except Exception:
            return False
        return status.get("print_stats", {}).get("state") not in (
            "printing", "paused", "cancelling")

    def check_file(self, filename: str) -> str:
        """The queue's name for gcodes/`filename`; 400 naming the file if it is not there."""
        name = filename.strip().lstrip("/")
        files = self.server.find(FilesApi)
        if not name or files is None:
            raise BadRequest(f"G-Code File {filename} does not exist")
        try:
            files.gcode_path(name)
        except ServerError:
            raise BadRequest(f"G-Code File {filename} does not exist") from None
        return name

    def _file_exists(self, filename: str) -> bool:
        files = self.server.find(FilesApi)
        if files is None:
            return True  # cannot tell; start_print will say
        try:
            files.gcode_path(filename)
        except ServerError:
            return False
        return True

    # -- effects -----------------------------------------------------------------------

    def _perform(self, effects: Iterable[Effect]) -> None:
        for effect in effects:
            if isinstance(effect, Notify):
                self._notify(effect.action)
            elif isinstance(effect, Say):
                log.info("queue: %s", effect.line)
                self.server.send_notification("notify_gcode_response", [effect.line])
            elif isinstance(effect, StartTimer):
                self._start_timer(effect)
            elif isinstance(effect, RunScript):
                self._spawn(self._run_script(effect))
            elif isinstance(effect, StartPrint):
                self._spawn(self._start_print(effect))

    def _notify(self, action: str) -> None:
        state = self.state
        payload = {
            "action": action,
            "updated_queue": None if action == "state_changed"
            else views.queued_jobs(state, self.clock()),
            "queue_state": views.queue_state(state),
        }
        self.server.send_notification("notify_job_queue_changed", [payload])
        self.server.events.emit(JobQueueChanged(action))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        self._tasks.spawn(coro)

    def _start_timer(self, effect: StartTimer) -> None:
        def fire() -> None:
            self._timers.pop(effect.token, None)
            self._spawn(self._dispatch_event(
                lambda s: self.transitions.timer_fired(s, effect.token, self.printer_idle())
            ))

        loop = asyncio.get_running_loop()
        self._timers[effect.token] = loop.call_later(effect.delay, fire)

    async def _run_script(self, effect: RunScript) -> None:
        error: str | None = None
        printer = self.printer()
        if printer is None:
            error = "no printer"
        else:
            try:
                await printer.run_gcode(effect.script)
            except ServerError as exc:
                error = exc.message
            except Exception as exc:
                log.exception("queue: %s script failed", effect.kind)
                error = str(exc) or type(exc).__name__
        await self._dispatch_event(
            lambda s: self.transitions.script_done(s, effect.token, error, self.printer_idle())
        )

    async def _start_print(self, effect: StartPrint) -> None:
        error: str | None = None
        missing = not self._file_exists(effect.filename)
        printer = self.printer()
        if missing:
            error = f"File {effect.filename} does not exist"
        elif printer is None:
            error = "no printer"
        else:
            try:
                await printer.start_print(effect.filename)
            except ServerError as exc:
                error = exc.message
                missing = isinstance(exc, NotFound)
            except Exception as exc:
                log.exception("queue: start_print(%s) failed", effect.filename)
                error = str(exc) or type(exc).__name__
        await self._dispatch_event(
            lambda s: self.transitions.start_result(s, effect.token, error, missing,
                                                self.printer_idle())
        )

    # -- events ------------------------------------------------------------------------

    async def _on_job_started(self, event: JobStarted) -> None:
        await self._dispatch_event(lambda s: self.transitions.print_started(s, event.filename))

    async def _on_job_finished(self, event: JobFinished) -> None:
        await self._dispatch_event(
            lambda s: self.transitions.print_finished(s, event.filename, event.status,
                                                  self.printer_idle())
        )

    async def _on_printer_state(self, event: PrinterStateChanged) -> None:
        await self._printer_state(event.state)

    async def _printer_state(self, state: str) -> None:
        await self._dispatch_event(
            lambda s: self.transitions.printer_state(s, state, self.printer_idle())
        )

    async def _on_files_changed(self, event: FilesChanged) -> None:
        transition = files_transition(self.transitions, event)
        if transition is not None:
            await self._dispatch_event(transition)


def files_transition(
    transitions: QueueTransitions, event: FilesChanged
) -> Callable[[QueueState], Step] | None:
    """The transition for a change of the files that touches gcodes."""
    action, path, root = event.action, event.path, event.root
    if action in ("delete_file", "delete_dir") and root == "gcodes":
        folder = action == "delete_dir"
        return lambda s: transitions.files_removed(
            s, files=() if folder else (path,), folders=(path,) if folder else ()
        )
    if action in ("move_file", "move_dir") and event.source_root == "gcodes":
        folder = action == "move_dir"
        src = event.source_path or ""
        if root == "gcodes":
            return lambda s: transitions.file_moved(s, src, path, folder)
        return lambda s: transitions.files_removed(
            s, files=() if folder else (src,), folders=(src,) if folder else ()
        )
    return None
