"""The HTTP side of the OctoPrint API: one Tornado handler class serving a table of
route functions, with OctoPrint's answers (bare JSON, 204/201, `{"error": "..."}`).

These routes cannot be registry routes: the registry wraps every answer in
`{"result": ...}` with status 200, which OctoPrint clients do not read. Access is the
access component's all the same: `BaseHandler.prepare` asks it about every request.
OctoPrint also takes the API key as `?apikey=` or `Authorization: Bearer <key>`; those
are moved to `X-Api-Key` before the check.
"""

from __future__ import annotations

import logging
import urllib.parse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from gateway.errors import ServerError
from gateway.request import Caller, Transport
from gateway.transports.http import BaseHandler

log = logging.getLogger(__name__)
_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode

JSON_TYPE = "application/json"
NO_PERMISSION = ("You don't have the permission to access the requested resource. It is "
                 "either read-protected or not readable by the server.")
NOT_FOUND = ("The requested URL was not found on the server. If you entered the URL "
             "manually please check your spelling and try again.")
_TRUE_WORDS = {"true", "yes", "y", "1"}


class ApiError(Exception):
    """An OctoPrint-style error answer: the status and `{"error": message}`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(slots=True)
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


NO_CONTENT = Reply(204)


@dataclass(slots=True)
class Call:
    """One request as a route function sees it."""

    verb: str
    path_args: dict[str, str]
    query: dict[str, str]
    body: bytes
    content_type: str
    caller: Caller
    base_url: str

    @property
    def user(self) -> dict[str, Any] | None:
        return self.caller.user

    def flag(self, name: str) -> bool:
        return self.query.get(name, "").strip().lower() in _TRUE_WORDS

    def json(self) -> dict[str, Any]:
        """The JSON object body of a command (OctoPrint: 415 for another content type)."""
        if not self.content_type.lower().startswith("application/json"):
            raise ApiError(415, "Did not attempt to load JSON data because the request "
                                "Content-Type was not 'application/json'.")
        try:
            value = _decode(self.body) if self.body.strip() else None
        except (msgspec.DecodeError, UnicodeDecodeError):
            raise ApiError(400, "Malformed JSON body in request") from None
        if not isinstance(value, dict):
            raise ApiError(400, "Malformed JSON body in request")
        return value

    def command(self, known: tuple[str, ...]) -> tuple[str, dict[str, Any]]:
        data = self.json()
        command = data.get("command")
        if command not in known:
            raise ApiError(400, "command is invalid")
        return str(command), data


Route = Callable[[Call], Awaitable[Any]]


def is_true(value: Any) -> bool:
    """OctoPrint's reading of a form/JSON flag."""
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in _TRUE_WORDS


def quote_path(path: str) -> str:
    return "/".join(urllib.parse.quote(part) for part in path.split("/"))


class OctoHandler(BaseHandler):
    """Base of every OctoPrint route: credentials as OctoPrint takes them, errors in
    OctoPrint's shape (401 from the access component becomes 403, as OctoPrint)."""

    def prepare(self) -> Any:
        headers = self.request.headers
        if "X-Api-Key" not in headers:
            key = self.get_query_argument("apikey", None)
            auth = headers.get("Authorization", "")
            if key is None and auth[:7].lower() == "bearer " and "." not in auth[7:]:
                key = auth[7:].strip()  # an API key, not a JWT
                del headers["Authorization"]
            if key:
                headers["X-Api-Key"] = key
        return super().prepare()

    def send_error_json(self, status: int, message: str) -> None:
        if status == 401:
            status, message = 403, NO_PERMISSION
        self.set_status(status)
        self.set_header("Content-Type", JSON_TYPE)
        self.set_header("Cache-Control", "no-store")
        self.finish(_encode({"error": message}))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc_info = kwargs.get("exc_info")
        message = self._reason
        if exc_info is not None and isinstance(exc_info[1], ServerError):
            message = exc_info[1].message
        self.set_header("Content-Type", JSON_TYPE)
        self.finish(_encode({"error": message}))

    def call_info(self, path_args: dict[str, str], body: bytes) -> Call:
        req = self.request
        return Call(
            verb=req.method or "GET",
            path_args=path_args,
            query={k: v[-1].decode("utf-8", "replace") for k, v in req.query_arguments.items()
                   if v},
            body=body,
            content_type=req.headers.get("Content-Type", ""),
            caller=Caller(ip=req.remote_ip or "", transport=Transport.HTTP, user=self.user),
            base_url=f"{req.protocol}://{req.host}",
        )

    def send_reply(self, reply: Reply) -> None:
        self.set_status(reply.status)
        for name, value in reply.headers.items():
            self.set_header(name, value)
        if reply.status == 204 or (reply.body is None and reply.status != 200):
            self.finish()
            return
        self.set_header("Content-Type", JSON_TYPE)
        if self.request.method != "GET":
            self.set_header("Cache-Control", "no-store")
        self.finish(_encode(reply.body))

    async def run_route(self, route: Route, call: Call) -> None:
        try:
            result = await route(call)
        except ApiError as exc:
            self.send_error_json(exc.status, exc.message)
            return
        except ServerError as exc:
            self.send_error_json(exc.status, exc.message)
            return
        except Exception:
            log.exception("OctoPrint API %s %s failed", call.verb, self.request.path)
            self.send_error_json(500, "Internal Server Error")
            return
        self.send_reply(result if isinstance(result, Reply) else Reply(200, result))


class ApiHandler(OctoHandler):
    """A route table entry: verb -> route function."""

    verbs: dict[str, Route]

    def initialize(self, server: Any, verbs: dict[str, Route]) -> None:  # type: ignore[override]
        super().initialize(server)
        self.verbs = verbs

    async def _serve(self, kwargs: dict[str, str]) -> None:
        if self._finished:
            return
        route = self.verbs.get(self.request.method or "GET")
        if route is None:
            self.send_error_json(405, "The method is not allowed for the requested URL.")
            return
        # Tornado has already unquoted the path arguments
        await self.run_route(route, self.call_info(dict(kwargs), self.request.body or b""))

    async def get(self, *args: str, **kwargs: str) -> None:
        await self._serve(kwargs)

    async def post(self, *args: str, **kwargs: str) -> None:
        await self._serve(kwargs)

    async def put(self, *args: str, **kwargs: str) -> None:
        await self._serve(kwargs)

    async def patch(self, *args: str, **kwargs: str) -> None:
        await self._serve(kwargs)

    async def delete(self, *args: str, **kwargs: str) -> None:
        await self._serve(kwargs)
