"""The Continuous Print plugin's public API over the shared queue.

JSON-RPC: continuousprint.state.get, continuousprint.set.add,
continuousprint.set_active, continuousprint.automation.external.
HTTP: /plugin/continuousprint/... as the plugin answers them - the bare JSON body, not
wrapped in {"result": ...} as registry routes are - so these paths are Tornado routes
that call the same registered handlers.
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import TYPE_CHECKING, Any

import msgspec

from gateway.errors import BadRequest, ServerError
from gateway.request import Request
from gateway.transports.http import JSON_TYPE, BaseHandler, decode_values

from . import views
from .transitions import SetSpec

if TYPE_CHECKING:
    from gateway.transports.host import TransportHost

    from .component import QueueComponent

PREFIX = "/plugin/continuousprint"
# JSON-RPC name, HTTP verb, HTTP path
ROUTES = (
    ("continuousprint.state.get", "GET", f"{PREFIX}/state/get"),
    ("continuousprint.set.add", "POST", f"{PREFIX}/set/add"),
    ("continuousprint.set_active", "POST", f"{PREFIX}/set_active"),
    ("continuousprint.automation.external", "POST", f"{PREFIX}/automation/external"),
)

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode


def _names(request: Request, name: str) -> tuple[str, ...]:
    values = request.get_list(name, None)
    if values is None:
        values = request.get_list(f"{name}[]", [])
    if not all(isinstance(v, str) for v in values):
        raise BadRequest(f"Invalid argument [{name}]: expected a list of strings")
    return tuple(values)


def parse_set(request: Request) -> SetSpec:
    """set/add's payload: form fields, a JSON body, or a `json` field holding it all."""
    packed = request.get("json", None)
    if packed is not None:
        data = request.get_dict("json")
        request = Request(request.method, data, request.caller)
    path = request.get_str("path")
    if not isinstance(path, str) or not path.strip():
        raise BadRequest("No data for argument: path")
    if request.get_bool("sd", False):
        raise BadRequest("Sets on the printer's SD card are not supported")
    count = request.get_int("count")
    if count is None or count < 1:
        raise BadRequest(f"count must be a positive integer, got {count}")
    job = request.get("job", None)
    job_id = None if job in (None, "") else request.get_int("job")
    name = request.get_str("jobName", None)
    return SetSpec(
        path=path,
        count=count,
        materials=_names(request, "materials"),
        profiles=_names(request, "profiles"),
        job=job_id,
        job_name=name,
        job_draft=request.get_bool("jobDraft", None),
    )


class ContinuousPrintApi:
    def __init__(self, queue: QueueComponent) -> None:
        self.queue = queue

    def register(self) -> None:
        server = self.queue.server
        handlers = {
            "continuousprint.state.get": self.state_get,
            "continuousprint.set.add": self.set_add,
            "continuousprint.set_active": self.set_active,
            "continuousprint.automation.external": self.automation_external,
        }
        for name, verb, path in ROUTES:
            server.register_endpoint(name, handlers[name])
            server.add_http_route(path, ContinuousPrintHandler, {"verb": verb, "method": name})

    def state_get(self, request: Request) -> dict[str, Any]:
        return views.cp_state(self.queue.state, self.queue.policy.profile)

    async def set_active(self, request: Request) -> dict[str, Any]:
        active = request.get_bool("active")
        transitions, queue = self.queue.transitions, self.queue
        if active:
            await queue.dispatch(lambda s: transitions.start(s, queue.printer_idle()))
        else:
            await queue.dispatch(transitions.pause)
        return self.state_get(request)

    async def set_add(self, request: Request) -> dict[str, Any]:
        spec = parse_set(request)
        path = self.queue.check_file(spec.path)
        spec = dataclasses.replace(spec, path=path)
        transitions, queue = self.queue.transitions, self.queue
        result: dict[str, Any] = await queue.dispatch(
            lambda s: transitions.add_set(s, spec, queue.printer_idle())
        )
        return result

    async def automation_external(self, request: Request) -> str:
        data = dict(request.args)
        transitions = self.queue.transitions
        result: str = await self.queue.dispatch(lambda s: transitions.set_external(s, data))
        return result


class ContinuousPrintHandler(BaseHandler):
    """Serves a registered continuousprint.* method at its plugin path, bare JSON."""

    def initialize(self, server: TransportHost, verb: str = "GET", method: str = "") -> None:
        super().initialize(server)
        self.verb = verb
        self.method = method

    async def get(self) -> None:
        await self._serve("GET")

    async def post(self) -> None:
        await self._serve("POST")

    def _args(self) -> dict[str, Any]:
        args = decode_values(self.request.query_arguments)
        body = self.request.body
        content_type = self.request.headers.get("Content-Type", "")
        if body and (content_type.startswith("application/json") or not content_type):
            try:
                decoded = _decode(body)
            except (msgspec.DecodeError, UnicodeDecodeError):
                raise BadRequest("Error parsing JSON body: invalid JSON") from None
            if not isinstance(decoded, dict):
                raise BadRequest("Error parsing JSON body: expected a JSON object")
            args.update(decoded)
        elif body:
            args.update(decode_values(self.request.body_arguments))
        return args

    async def _serve(self, verb: str) -> None:
        if self._finished:
            return
        if verb != self.verb:
            self.send_error_json(405, "Method Not Allowed")
            return
        endpoint = self.server.registry.methods[self.method]
        try:
            request = Request(self.method, self._args(), self.caller(), http_method=verb,
                              headers=self.request.headers)
            result = endpoint.handler(request)
            if inspect.isawaitable(result):
                result = await result
        except ServerError as exc:
            self.send_error_json(exc.status, exc.message)
            return
        self.set_header("Content-Type", JSON_TYPE)
        self.set_header("Cache-Control", "no-store")
        self.finish(_encode(result))
