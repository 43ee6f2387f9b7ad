"""What the OctoPrint routes share: OctoPrint's errors and wording, and the helper that
turns a route table into rows of the one method table.

Every OctoPrint route is a registry row (HTTP only, `Answer.OCTOPRINT`): the bare JSON
body, 201/204 and headers through `Response`, errors as `{"error": "..."}` with 401
answered as OctoPrint's 403, OctoPrint's credential forms (`?apikey=`, `Authorization:
Bearer <key>`). Access is decided at the door like for every row.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from types import UnionType
from typing import TYPE_CHECKING, Any

import msgspec

from gateway.errors import ServerError
from gateway.registry import Access, Answer, Response

if TYPE_CHECKING:
    from gateway.api import ServerApi

NOT_FOUND = ("The requested URL was not found on the server. If you entered the URL "
             "manually please check your spelling and try again.")
_TRUE_WORDS = {"true", "yes", "y", "1"}

NO_CONTENT = Response(204)


class ApiError(ServerError):
    """An OctoPrint-style error answer: the status and `{"error": message}`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message, status)


# (verb, handler, params): one verb of a route
Verb = tuple[Callable[..., Any], type[msgspec.Struct] | UnionType | None]
# path -> (base name, {verb: (handler, params)})
Table = dict[str, tuple[str, dict[str, Verb]]]


def register_table(server: ServerApi, table: Table, *, public: bool = False) -> None:
    """Each route and verb as a row: `octoprint.<base>.<verb>`."""
    register: Any = server.registry.register  # params vary by row: checked at registration
    for path, (base, verbs) in table.items():
        for verb, (handler, params) in verbs.items():
            register(
                f"octoprint.{base}.{verb.lower()}",
                handler,
                params=params,
                http=[(verb, path)],
                websocket=False,
                answer=Answer.OCTOPRINT,
                access=Access.PUBLIC if public else Access.USER,
            )


def is_true(value: Any) -> bool:
    """OctoPrint's reading of a form/JSON flag."""
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in _TRUE_WORDS


def quote_path(path: str) -> str:
    return "/".join(urllib.parse.quote(part) for part in path.split("/"))
