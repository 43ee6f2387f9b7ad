"""server.job_queue.*: Moonraker's job queue API over the shared queue."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from msgspec import Meta

from gateway.params import COMMA
from gateway.registry import Params
from gateway.request import Request

from . import views

if TYPE_CHECKING:
    from .component import QueueComponent

# a list, or one comma separated text (Moonraker's get_list)
Names = Annotated[list[str], Meta(max_length=10000), COMMA]


class PostJobArgs(Params):
    filenames: Names
    reset: bool = False


class DeleteJobArgs(Params):
    job_ids: Names = []
    all: bool = False


class JumpArgs(Params):
    job_id: Annotated[str, Meta(min_length=1, max_length=64)]


class JobQueueEndpoints:
    def __init__(self, queue: QueueComponent) -> None:
        self.queue = queue

    def register(self) -> None:
        server = self.queue.server
        reg = server.register_endpoint
        server.registry.register_rest(
            "server.job_queue.job", "/server/job_queue/job",
            {"POST": self.post_job, "DELETE": self.delete_job},
            params={"POST": PostJobArgs, "DELETE": DeleteJobArgs},
        )
        reg("server.job_queue.status", self.status, http="GET /server/job_queue/status")
        reg("server.job_queue.pause", self.pause, http="POST /server/job_queue/pause")
        reg("server.job_queue.start", self.start, http="POST /server/job_queue/start")
        reg("server.job_queue.jump", self.jump, params=JumpArgs,
            http="POST /server/job_queue/jump")

    def _reply(self) -> dict[str, object]:
        return views.moonraker_status(self.queue.state, self.queue.clock())

    def status(self, request: Request) -> dict[str, object]:
        return self._reply()

    async def post_job(self, args: PostJobArgs, request: Request) -> dict[str, object]:
        names = [n for n in args.filenames if n.strip()]
        reset = args.reset
        # every file is checked before any is queued, as Moonraker
        checked = [self.queue.check_file(name) for name in names]
        transitions = self.queue.transitions
        await self.queue.dispatch(
            lambda s: transitions.post_jobs(s, checked, reset, self.queue.printer_idle())
        )
        return self._reply()

    async def delete_job(self, args: DeleteJobArgs, request: Request) -> dict[str, object]:
        everything = args.all
        ids: list[int] = []
        if not everything:
            raw = [r for r in args.job_ids if r.strip()]
            ids = [i for i in (views.parse_moonraker_id(r) for r in raw) if i is not None]
        transitions = self.queue.transitions
        await self.queue.dispatch(lambda s: transitions.delete(s, ids, everything))
        return self._reply()

    async def pause(self, request: Request) -> dict[str, object]:
        await self.queue.dispatch(self.queue.transitions.pause)
        return self._reply()

    async def start(self, request: Request) -> dict[str, object]:
        transitions = self.queue.transitions
        await self.queue.dispatch(lambda s: transitions.start(s, self.queue.printer_idle()))
        return self._reply()

    async def jump(self, args: JumpArgs, request: Request) -> dict[str, object]:
        job_id = args.job_id
        set_id = views.parse_moonraker_id(job_id)
        transitions = self.queue.transitions
        await self.queue.dispatch(lambda s: transitions.jump(s, set_id, job_id))
        return self._reply()
