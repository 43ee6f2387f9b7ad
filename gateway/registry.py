"""The one method table: a handler is registered once with its JSON-RPC name and its
HTTP routes; every transport dispatches through it.
"""

from __future__ import annotations

import enum
import inspect
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from gateway.request import Request

Handler = Callable[[Request], Any] | Callable[[Request], Awaitable[Any]]


class Access(enum.Enum):
    """Who may call: PUBLIC needs no credentials; USER needs a trusted peer or credentials."""

    PUBLIC = "public"
    USER = "user"


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
    # HTTP answers the bare result, not {"result": ...}: OctoPrint and its plugins' clients
    raw_http: bool = False


class DuplicateEndpoint(Exception):
    pass


_VERB_SUFFIX = {"GET": "get", "POST": "post", "DELETE": "delete"}


class Registry:
    def __init__(self) -> None:
        self.methods: dict[str, Endpoint] = {}
        self._routes: dict[str, dict[str, Endpoint]] = {}
        self._patterns: list[tuple[re.Pattern[str], dict[str, Endpoint]]] = []

    def register(
        self,
        name: str,
        handler: Handler,
        *,
        http: Iterable[tuple[str, str]] | str | None = None,
        access: Access = Access.USER,
        websocket: bool = True,
        requires_printer: bool = False,
        positional: tuple[str, ...] = (),
        raw_http: bool = False,
    ) -> Endpoint:
        """Register `name` (JSON-RPC) and its HTTP routes ("GET /server/info").

        `http` may be given as "GET /a/b" or several (verb, path) pairs.
        """
        if name in self.methods:
            raise DuplicateEndpoint(name)
        routes: list[tuple[str, str]] = []
        if isinstance(http, str):
            verb, path = http.split(" ", 1)
            routes.append((verb.upper(), path))
        elif http is not None:
            routes.extend((v.upper(), p) for v, p in http)
        endpoint = Endpoint(
            name=name,
            handler=handler,
            is_async=inspect.iscoroutinefunction(handler),
            access=access,
            http=routes,
            websocket=websocket,
            requires_printer=requires_printer,
            positional=positional,
            raw_http=raw_http,
        )
        for verb, path in routes:
            self._add_route(verb, path, endpoint)
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
    ) -> None:
        """Several verbs on one path: `server.files.directory` + GET → `get_directory`."""
        prefix, _, noun = base_name.rpartition(".")
        for verb, handler in handlers.items():
            name = f"{prefix}.{_VERB_SUFFIX[verb.upper()]}_{noun}"
            self.register(
                name,
                handler,
                http=[(verb, path)],
                access=access,
                requires_printer=requires_printer,
            )

    def _add_route(self, verb: str, path: str, endpoint: Endpoint) -> None:
        if "{" in path:
            regex = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path) + "$"
            for pattern, verbs in self._patterns:
                if pattern.pattern == regex:
                    verbs[verb] = endpoint
                    return
            self._patterns.append((re.compile(regex), {verb: endpoint}))
            return
        self._routes.setdefault(path, {})[verb] = endpoint

    def lookup_http(self, path: str) -> tuple[dict[str, Endpoint], dict[str, str]] | None:
        """The verbs served at `path` and any path arguments, or None if unknown."""
        verbs = self._routes.get(path)
        if verbs is not None:
            return verbs, {}
        for pattern, pverbs in self._patterns:
            match = pattern.match(path)
            if match:
                return pverbs, match.groupdict()
        return None

    def http_paths(self) -> list[str]:
        return sorted(self._routes)
