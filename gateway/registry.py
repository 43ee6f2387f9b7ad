"""The one method table: every request, whatever door it came through, is an endpoint row.

A row says once: its JSON-RPC name, its HTTP routes and verbs, who may call it, its
parameters (a msgspec Struct, converted at the door), and how an HTTP answer is shaped.
Transports translate to and from it; `Registry.call` is the same path for callers inside
the process. See docs/core-api.md.
"""

from __future__ import annotations

import enum
import inspect
import re
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import UnionType
from typing import Any, Protocol, TypeVar, overload

import msgspec

from gateway.errors import NotFound
from gateway.params import Params, ParamSpec
from gateway.request import Caller, Request

__all__ = [
    "Access",
    "Answer",
    "DuplicateEndpoint",
    "DuplicateRoute",
    "Endpoint",
    "Params",
    "Registry",
    "Response",
]

Handler = Callable[..., Any]
P = TypeVar("P")
VERBS = ("GET", "POST", "PUT", "PATCH", "DELETE")


class Access(enum.Enum):
    """Who may call: PUBLIC needs no credentials; USER needs a trusted peer or credentials."""

    PUBLIC = "public"
    USER = "user"


class Answer(enum.Enum):
    """How the HTTP door shapes a row's answer (JSON-RPC always answers `result`).

    MOONRAKER: `{"result": value}`, errors `{"error": {"code", "message"}}`.
    BARE: the value itself (plugin APIs), errors as MOONRAKER.
    OCTOPRINT: the value itself, errors `{"error": message}` with 401 answered as 403;
    the body must be JSON (415 otherwise); OctoPrint's credential forms (`?apikey=`,
    `Authorization: Bearer <key>`) are accepted.
    """

    MOONRAKER = "moonraker"
    BARE = "bare"
    OCTOPRINT = "octoprint"


@dataclass(slots=True)
class Response:
    """A handler's answer with an explicit HTTP status and headers; `body` None sends no
    body. Over JSON-RPC and `Registry.call` only `body` counts."""

    status: int = 200
    body: object = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Endpoint:
    name: str
    handler: Handler
    is_async: bool
    access: Access = Access.USER
    http: list[tuple[str, str]] = field(default_factory=list)
    websocket: bool = True
    # printer.* methods need a connected printer; the registry answers 503 otherwise
    requires_printer: bool = False
    # names for by-position JSON-RPC params, in order
    positional: tuple[str, ...] = ()
    answer: Answer = Answer.MOONRAKER
    # the declared parameters; None: the handler takes the Request alone
    params: ParamSpec | None = None

    @property
    def raw_http(self) -> bool:
        return self.answer is not Answer.MOONRAKER

    def run(self, request: Request) -> Any:
        """Convert the arguments and call the handler: its result, or an awaitable.
        (The HTTP door has already loosened query and form texts: ParamSpec.loosen.)"""
        spec = self.params
        if spec is None:
            return self.handler(request)
        return self.handler(spec.convert(request.args), request)


class DuplicateEndpoint(Exception):
    pass


class DuplicateRoute(Exception):
    """Two rows claim the same verb on the same HTTP path: refused at start-up."""


_VERB_SUFFIX = {"GET": "get", "POST": "post", "DELETE": "delete", "PUT": "put",
                "PATCH": "patch"}
_PATH_ARG = re.compile(r"\{(\w+)(?::([^{}]+))?\}")


def _route_regex(path: str) -> str:
    """`/a/{name}` → `[^/]+` for name; `{name:regex}` → that regex."""
    out, pos = [], 0
    for match in _PATH_ARG.finditer(path):
        out.append(re.escape(path[pos:match.start()]))
        out.append(f"(?P<{match.group(1)}>{match.group(2) or '[^/]+'})")
        pos = match.end()
    out.append(re.escape(path[pos:]))
    return "^" + "".join(out) + "$"


def _no_guard(endpoint: Endpoint, request: Request) -> None:
    return None


class RegisterEndpoint(Protocol):
    """`Registry.register`: a handler `handler(request)` without `params`; with `params`
    (a msgspec Struct, a union of Structs tagged by one field, or a dict type) a handler
    `handler(args, request)` whose first parameter has that type. The one definition of
    the signature (`ServerApi.register_endpoint` is typed with it too)."""

    @overload
    def __call__(
        self,
        name: str,
        handler: Callable[[Request], object],
        *,
        params: None = None,
        http: Iterable[tuple[str, str]] | str | None = None,
        access: Access = Access.USER,
        websocket: bool = True,
        requires_printer: bool = False,
        positional: tuple[str, ...] = (),
        answer: Answer = Answer.MOONRAKER,
        raw_http: bool = False,
    ) -> Endpoint: ...

    @overload
    def __call__(
        self,
        name: str,
        handler: Callable[[P, Request], object],
        *,
        params: type[P],
        http: Iterable[tuple[str, str]] | str | None = None,
        access: Access = Access.USER,
        websocket: bool = True,
        requires_printer: bool = False,
        positional: tuple[str, ...] = (),
        answer: Answer = Answer.MOONRAKER,
        raw_http: bool = False,
    ) -> Endpoint: ...

    @overload
    def __call__(
        self,
        name: str,
        handler: Callable[[Any, Request], object],
        *,
        params: UnionType,
        http: Iterable[tuple[str, str]] | str | None = None,
        access: Access = Access.USER,
        websocket: bool = True,
        requires_printer: bool = False,
        positional: tuple[str, ...] = (),
        answer: Answer = Answer.MOONRAKER,
        raw_http: bool = False,
    ) -> Endpoint: ...


class Registry:
    def __init__(self) -> None:
        # JSON-RPC methods (rows with websocket=True)
        self.methods: dict[str, Endpoint] = {}
        # every row, HTTP-only ones included
        self.endpoints: dict[str, Endpoint] = {}
        self._routes: dict[str, dict[str, Endpoint]] = {}
        self._patterns: list[tuple[re.Pattern[str], dict[str, Endpoint]]] = []
        # access and readiness check before a call (the server installs its own)
        self.guard: Callable[[Endpoint, Request], None] = _no_guard
        # the typed face of _register
        self.register: RegisterEndpoint = self._register

    def _register(
        self,
        name: str,
        handler: Handler,
        *,
        params: type[Any] | UnionType | None = None,
        http: Iterable[tuple[str, str]] | str | None = None,
        access: Access = Access.USER,
        websocket: bool = True,
        requires_printer: bool = False,
        positional: tuple[str, ...] = (),
        answer: Answer = Answer.MOONRAKER,
        raw_http: bool = False,
    ) -> Endpoint:
        """Register `name` (JSON-RPC unless websocket=False) and its HTTP routes.

        `http` is "GET /a/b" or several (verb, path) pairs; a path may hold `{name}`
        (one segment) or `{name:regex}` parts, passed percent-decoded as arguments.
        With `params` (a msgspec Struct, or a union of Structs tagged by one field), the
        handler is called `handler(params, request)` with the converted value; without,
        `handler(request)`.
        """
        if name in self.endpoints:
            raise DuplicateEndpoint(name)
        routes: list[tuple[str, str]] = []
        if isinstance(http, str):
            verb, path = http.split(" ", 1)
            routes.append((verb.upper(), path))
        elif http is not None:
            routes.extend((v.upper(), p) for v, p in http)
        for verb, _ in routes:
            if verb not in VERBS:
                raise ValueError(f"{name}: unknown HTTP verb {verb}")
        if raw_http and answer is Answer.MOONRAKER:
            answer = Answer.BARE
        endpoint = Endpoint(
            name=name,
            handler=handler,
            is_async=inspect.iscoroutinefunction(handler),
            access=access,
            http=routes,
            websocket=websocket,
            requires_printer=requires_printer,
            positional=positional,
            answer=answer,
            params=ParamSpec(params) if params is not None else None,
        )
        for verb, path in routes:
            self._check_free(verb, path, name)
        for verb, path in routes:
            self._add_route(verb, path, endpoint)
        self.endpoints[name] = endpoint
        if websocket:
            self.methods[name] = endpoint
        return endpoint

    def register_rest(
        self,
        base_name: str,
        path: str,
        handlers: dict[str, Handler],
        *,
        access: Access = Access.USER,
        requires_printer: bool = False,
        params: Mapping[str, type[msgspec.Struct] | UnionType] | None = None,
    ) -> None:
        """Several verbs on one path: `server.files.directory` + GET → `get_directory`.
        `params` gives each verb's declaration (verbs not named take the Request alone)."""
        prefix, _, noun = base_name.rpartition(".")
        for verb, handler in handlers.items():
            name = f"{prefix}.{_VERB_SUFFIX[verb.upper()]}_{noun}"
            declared = (params or {}).get(verb.upper())
            self._register(
                name,
                handler,
                http=[(verb, path)],
                access=access,
                requires_printer=requires_printer,
                params=declared,
            )

    # -- calling ------------------------------------------------------------------------

    async def call(self, name: str, args: Mapping[str, object], caller: Caller) -> Any:
        """Call a row from inside the process (MQTT, agents, other components): the same
        access check, parameter conversion and handler as every door. Raises the
        handler's ServerError; NotFound when no row has this name. A handler's `Response`
        is returned as its body."""
        endpoint = self.endpoints.get(name)
        if endpoint is None:
            raise NotFound(f"Method not found: {name}")
        request = Request(name, dict(args), caller)
        self.guard(endpoint, request)
        result = endpoint.run(request)
        if inspect.isawaitable(result):
            result = await result
        return result.body if isinstance(result, Response) else result

    # -- HTTP routes ----------------------------------------------------------------------

    def _check_free(self, verb: str, path: str, name: str) -> None:
        if "{" in path:
            regex = _route_regex(path)
            taken = next((v for p, v in self._patterns if p.pattern == regex), {})
        else:
            taken = self._routes.get(path, {})
        if verb in taken:
            raise DuplicateRoute(
                f"{verb} {path} is already served by {taken[verb].name}; {name} cannot "
                "register it again"
            )

    def _add_route(self, verb: str, path: str, endpoint: Endpoint) -> None:
        if "{" in path:
            regex = _route_regex(path)
            for pattern, verbs in self._patterns:
                if pattern.pattern == regex:
                    verbs[verb] = endpoint
                    return
            self._patterns.append((re.compile(regex), {verb: endpoint}))
            return
        self._routes.setdefault(path, {})[verb] = endpoint

    def lookup_http(self, path: str) -> tuple[dict[str, Endpoint], dict[str, str]] | None:
        """The verbs served at `path` and its (percent-decoded) path arguments."""
        verbs = self._routes.get(path)
        if verbs is not None:
            return verbs, {}
        for pattern, pverbs in self._patterns:
            match = pattern.match(path)
            if match:
                return pverbs, {k: urllib.parse.unquote(v) for k, v in match.groupdict().items()}
        return None

    def http_paths(self) -> list[str]:
        return sorted(self._routes)

