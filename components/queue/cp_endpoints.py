"""The Continuous Print plugin's public API over the shared queue: registry rows answered
as the plugin answers them (the bare JSON body, `Answer.BARE`).

JSON-RPC: continuousprint.state.get, continuousprint.set.add,
continuousprint.set_active, continuousprint.automation.external.
HTTP: the same rows at /plugin/continuousprint/...
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Annotated

from msgspec import Meta, field

from gateway.errors import BadRequest, InvalidParams
from gateway.registry import Answer, Params
from gateway.request import Request

from . import views
from .transitions import SetSpec

if TYPE_CHECKING:
    from .component import QueueComponent

PREFIX = "/plugin/continuousprint"
Names = Annotated[list[str], Meta(max_length=256)]


class SetFields(Params):
    """A set, as form fields or a JSON object (required ones checked in `spec`)."""

    path: str | None = None
    count: int | None = None
    sd: bool = False
    # a job id to add the set to ("" or absent: a new job)
    job: int | str | None = None
    job_name: str | None = field(default=None, name="jobName")
    job_draft: bool | None = field(default=None, name="jobDraft")
    materials: Names = []
    materials_alt: Names = field(default_factory=list, name="materials[]")
    profiles: Names = []
    profiles_alt: Names = field(default_factory=list, name="profiles[]")

    def spec(self) -> SetSpec:
        if not self.path or not self.path.strip():
            raise InvalidParams("No data for argument: path")
        if self.count is None:
            raise InvalidParams("No data for argument: count")
        if self.count < 1:
            raise InvalidParams(f"count must be a positive integer, got {self.count}")
        if self.sd:
            raise BadRequest("Sets on the printer's SD card are not supported")
        job = self.job
        if isinstance(job, str):
            if job.strip() and not job.strip().isdigit():
                raise InvalidParams(f"Invalid argument [job]: expected a job id, got {job!r}")
            job = int(job) if job.strip() else None
        return SetSpec(
            path=self.path,
            count=self.count,
            materials=tuple(self.materials or self.materials_alt),
            profiles=tuple(self.profiles or self.profiles_alt),
            job=job,
            job_name=self.job_name,
            job_draft=self.job_draft,
        )


class SetAddArgs(SetFields):
    # the plugin's own page posts everything as one JSON text in a `json` form field
    json: SetFields | None = None


class ActiveArgs(Params):
    active: bool


# the external automation's data: any JSON values, by name
External = dict[str, object]


class ContinuousPrintApi:
    def __init__(self, queue: QueueComponent) -> None:
        self.queue = queue

    def register(self) -> None:
        reg = self.queue.server.register_endpoint
        bare = Answer.BARE
        reg("continuousprint.state.get", self.state_get, answer=bare,
            http=f"GET {PREFIX}/state/get")
        reg("continuousprint.set.add", self.set_add, params=SetAddArgs, answer=bare,
            http=f"POST {PREFIX}/set/add")
        reg("continuousprint.set_active", self.set_active, params=ActiveArgs, answer=bare,
            http=f"POST {PREFIX}/set_active")
        reg("continuousprint.automation.external", self.automation_external,
            params=External, answer=bare, http=f"POST {PREFIX}/automation/external")

    def state_get(self, request: Request) -> dict[str, object]:
        return views.cp_state(self.queue.state, self.queue.policy.profile)

    async def set_active(self, args: ActiveArgs, request: Request) -> dict[str, object]:
        transitions, queue = self.queue.transitions, self.queue
        if args.active:
            await queue.dispatch(lambda s: transitions.start(s, queue.printer_idle()))
        else:
            await queue.dispatch(transitions.pause)
        return self.state_get(request)

    async def set_add(self, args: SetAddArgs, request: Request) -> dict[str, object]:
        spec = (args.json or args).spec()
        path = self.queue.check_file(spec.path)
        spec = dataclasses.replace(spec, path=path)
        transitions, queue = self.queue.transitions, self.queue
        result = await queue.dispatch(
            lambda s: transitions.add_set(s, spec, queue.printer_idle())
        )
        return result if isinstance(result, dict) else {}

    async def automation_external(self, data: External, request: Request) -> str:
        transitions = self.queue.transitions
        return str(await self.queue.dispatch(lambda s: transitions.set_external(s, data)))
