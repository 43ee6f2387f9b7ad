"""server.history.*: every print recorded as it starts and updated as it ends."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, TypeVar

from msgspec import Meta

from components.files.api import FilesApi
from components.history import auxiliary, store
from components.history.api import HistoryApi, HistoryChanged
from components.history.jobs import SERVER_EXIT, Job, clean_metadata, format_job_id, parse_job_id
from components.printer.api import JobFinished, JobStarted, PrinterApi
from gateway.component import BaseComponent
from gateway.errors import BadRequest, InvalidParams, NotFound, ServerError
from gateway.registry import Params
from gateway.request import Request

if TYPE_CHECKING:
    from gateway.api import ServerApi

log = logging.getLogger(__name__)
T = TypeVar("T")

# a job still printing when the server restarts goes on in the next generation
CARRY_NAME = "history.current"
# a job row is written at once; metadata still being extracted is fetched again at the end
METADATA_WAIT = 2.0


class History(BaseComponent, HistoryApi):
    moonraker_names = ("history",)

    def __init__(self, server: ServerApi) -> None:
        self.server = server
        self.db = server.database
        carried = server.carry.take(CARRY_NAME)
        running = carried if isinstance(carried, Job) else None
        keep = running.number if running is not None else None
        self.totals, interrupted = self.db.run_sync(lambda c: store.setup(c, keep))
        if interrupted:
            names = ", ".join(format_job_id(n) for n in interrupted)
            log.warning("history: jobs interrupted by an abrupt stop: %s", names)
        self.auxiliary_totals = self.db.run_sync(store.load_auxiliary_totals)
        self.auxiliary_providers: list[auxiliary.AuxiliaryProvider] = []
        self.current: Job | None = running
        # job events and requests that change the tables run one at a time, in order
        self._lock = asyncio.Lock()
        self._closed = False
        events = server.events
        self._unsubscribe: list[Callable[[], None]] = [
            events.subscribe(JobStarted, self._on_started),
            events.subscribe(JobFinished, self._on_finished),
        ]
        reg = server.register_endpoint
        reg("server.history.list", self.list_jobs, params=ListArgs,
            http="GET /server/history/list")
        reg("server.history.totals", self.get_totals, http="GET /server/history/totals")
        reg(
            "server.history.reset_totals",
            self.reset_totals,
            http="POST /server/history/reset_totals",
        )
        server.registry.register_rest(
            "server.history.job",
            "/server/history/job",
            {"GET": self.get_job, "DELETE": self.delete_job},
            params={"GET": JobArgs, "DELETE": DeleteArgs},
        )

    async def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        async with self._lock:
            if self.current is not None and self._still_printing():
                # server.restart: the printer goes on printing it; the next generation
                # records its end (or, if it never comes, the process stop does)
                job = self.current
                self.current = None
                self.server.carry.put(CARRY_NAME, job, lambda: self._finish_carried(job))
            if self.current is not None:
                stats = self._printer_stats()
                if stats.get("filename") != self.current.filename:
                    stats = {}  # the printer's numbers are not about this job
                await self._finish(SERVER_EXIT, stats)
            self._closed = True

    def _still_printing(self) -> bool:
        if not self.server.restart_requested or self.current is None:
            return False
        stats = self._printer_stats()
        return stats.get("filename") == self.current.filename and stats.get("state") in (
            "printing", "paused", "cancelling")

    async def _finish_carried(self, job: Job) -> None:
        job.finish(SERVER_EXIT, {})
        totals, aux = self.totals, self.auxiliary_totals
        await self.db.run(lambda c: store.finish_job(c, job, totals, aux))

    # -- other components ------------------------------------------------------------

    def add_auxiliary_provider(self, provider: auxiliary.AuxiliaryProvider) -> None:
        """Fields added to every job's record when it ends (sensors' history fields)."""
        self.auxiliary_providers.append(provider)

    def _auxiliary_report(self) -> list[dict[str, str | float | None]]:
        current = [f for p in self.auxiliary_providers for f in p.auxiliary_fields()]
        return auxiliary.report(self.auxiliary_totals, current)

    def _files(self) -> FilesApi | None:
        return self.server.find(FilesApi)

    def _printer_stats(self) -> dict[str, object]:
        printer = self.server.find(PrinterApi)
        if printer is None:
            return {}
        try:
            return printer.query_status({"print_stats": None}).get("print_stats", {})
        except Exception:
            log.exception("history: print_stats unavailable")
            return {}

    async def _metadata(self, filename: str, wait: float) -> dict[str, object]:
        files = self._files()
        if files is None or filename.startswith("sd:"):
            return {}
        # shielded: a slow extraction goes on for the files component and its other callers
        pending = asyncio.ensure_future(files.get_metadata(filename))
        try:
            metadata = await asyncio.wait_for(asyncio.shield(pending), wait)
        except TimeoutError:
            pending.add_done_callback(_consume)
            return {}
        except (ServerError, OSError) as exc:
            log.info("history: no metadata for %s: %s", filename, exc)
            return {}
        return clean_metadata(metadata)

    def _exists(self, job: Job) -> bool:
        """The job's file is still there, unchanged (same modification time)."""
        files = self._files()
        if files is None or job.filename.startswith("sd:"):
            return False
        try:
            path = files.gcode_path(job.filename)
            mtime = path.stat().st_mtime
        except (ServerError, OSError):
            return False
        modified = job.metadata.get("modified")
        if not isinstance(modified, (int, float)):
            return True
        # Moonraker's isclose() default tolerance is ~2 s at today's timestamps, enough to
        # miss a file replaced right after its print; metadata keeps the exact st_mtime
        return math.isclose(mtime, float(modified), rel_tol=0.0, abs_tol=1e-6)

    # -- job events ------------------------------------------------------------------

    async def _on_started(self, event: JobStarted) -> None:
        filename = event.filename
        async with self._lock:
            if self._closed:
                return
            if self.current is not None:
                # a new job without an end to the last one: as Moonraker, call it cancelled
                await self._finish("cancelled", {})
            job = Job(filename=filename)
            job.metadata = await self._metadata(filename, METADATA_WAIT)
            job.number = await self.db.run(lambda c: store.insert_job(c, job))
            self.current = job
            files = self._files()
            if files is not None and not filename.startswith("sd:"):
                # Fluidd's file list shows a file's last print from these
                files.note_print_start(filename, job.job_id, job.start_time)
            log.info("history: job %s started (%s)", job.job_id, filename)
            self._announce("added", job)

    async def _on_finished(self, event: JobFinished) -> None:
        async with self._lock:
            if self._closed:
                return
            if self.current is None:
                log.info("history: %s ended (%s) but no job was recorded", event.filename,
                         event.status)
                return
            await self._finish(event.status, {"print_duration": event.print_duration,
                                              "total_duration": event.total_duration,
                                              "filament_used": event.filament_used})

    async def _finish(self, status: str, stats: dict[str, object]) -> None:
        job = self.current
        assert job is not None
        job.finish(status, stats)
        fields = [f for p in self.auxiliary_providers for f in p.job_auxiliary()]
        job.auxiliary_data = [f.entry() for f in fields]
        aux_totals = auxiliary.add_to_totals(self.auxiliary_totals, fields)
        # the file may have been uploaded just before the print: its metadata is ready now
        metadata = await self._metadata(job.filename, METADATA_WAIT)
        if metadata:
            job.metadata = metadata
        totals = _add_to_totals(self.totals, job)
        await self.db.run(lambda c: store.finish_job(c, job, totals, aux_totals))
        self.totals = totals
        self.auxiliary_totals = aux_totals
        self.current = None
        log.info("history: job %s %s", job.job_id, status)
        self._announce("finished", job)

    def _announce(self, action: str, job: Job) -> None:
        notified = job.as_notified(self._exists(job))
        self.server.send_notification("notify_history_changed",
                                      [{"action": action, "job": notified}])
        self.server.events.emit(HistoryChanged(action, job=notified))

    # -- endpoints -------------------------------------------------------------------

    async def list_jobs(self, args: ListArgs, request: Request) -> dict[str, object]:
        order = args.order.lower()
        if order not in ("asc", "desc"):
            raise InvalidParams(f"Invalid `order` value: {args.order.upper()[:20]}")
        query = store.ListQuery(
            limit=args.limit,
            start=args.start,
            before=_optional_time(args.before),
            since=_optional_time(args.since),
            descending=order == "desc",
        )
        jobs = await self.db.run(lambda c: store.list_jobs(c, query))
        listed = [job.as_listed(self._exists(job)) for job in jobs]
        return {"count": len(listed), "jobs": listed}

    async def get_job(self, args: JobArgs, request: Request) -> dict[str, object]:
        uid = args.uid
        number = parse_job_id(uid)
        job = None if number is None else await self.db.run(lambda c: store.get_job(c, number))
        if job is None:
            raise NotFound(f"Invalid job uid: {uid}")
        return {"job": job.as_listed(self._exists(job))}

    async def delete_job(self, args: DeleteArgs, request: Request) -> dict[str, object]:
        async with self._lock:
            if args.all:
                numbers = await self.db.run(store.delete_all)
                deleted = [format_job_id(n) for n in numbers]
            else:
                uid = args.uid
                if uid is None:
                    raise InvalidParams("No data for argument: uid")
                number = parse_job_id(uid)
                found = number is not None and await self.db.run(
                    lambda c: store.delete_job(c, number)
                )
                if not found:
                    raise NotFound(f"Invalid job uid: {uid}")
                deleted = [uid]
        if deleted:
            self.server.events.emit(HistoryChanged("deleted", deleted_jobs=tuple(deleted)))
        return {"deleted_jobs": deleted}

    def get_totals(self, request: Request) -> dict[str, object]:
        return {"job_totals": dict(self.totals),
                "auxiliary_totals": self._auxiliary_report()}

    async def reset_totals(self, request: Request) -> dict[str, object]:
        async with self._lock:
            if self.current is not None:
                raise BadRequest("Job in progress, cannot reset totals")
            last = self.totals
            last_auxiliary = self._auxiliary_report()
            fresh = store.empty_totals()
            await self.db.run(lambda c: store.save_totals(c, fresh))
            await self.db.run(lambda c: store.save_auxiliary_totals(c, {}))
            self.totals = fresh
            self.auxiliary_totals = {}
        return {"last_totals": last, "last_auxiliary_totals": last_auxiliary}


class ListArgs(Params):
    # SQLite takes 64-bit integers; no history has 2**31 jobs
    limit: Annotated[int, Meta(ge=0, le=2**31)] = 50
    start: Annotated[int, Meta(ge=0, le=2**31)] = 0
    # Unix times; -1 (Moonraker's "not given") or absent: no bound
    before: float | None = None
    since: float | None = None
    order: str = "desc"


class JobArgs(Params):
    uid: str


class DeleteArgs(Params):
    uid: str | None = None
    all: bool = False


def _add_to_totals(totals: store.Totals, job: Job) -> store.Totals:
    new = totals.copy()
    new["total_jobs"] += 1
    new["total_time"] += job.total_duration
    new["total_print_time"] += job.print_duration
    new["total_filament_used"] += job.filament_used
    new["longest_job"] = max(new["longest_job"], job.total_duration)
    new["longest_print"] = max(new["longest_print"], job.print_duration)
    return new


def _optional_time(value: float | None) -> float | None:
    # Moonraker's "not given" is -1
    return None if value is None or value == -1 else value


def _consume(task: asyncio.Future[T]) -> None:
    with contextlib.suppress(BaseException):
        task.exception()
