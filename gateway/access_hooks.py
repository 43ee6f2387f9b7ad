"""The seam between the transports and the access component.

Transports ask one `AccessProvider` (installed by the access component) about every
request; without one, every peer is trusted (the core alone, in unit tests).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

from gateway.events import BusEvent

if TYPE_CHECKING:
    from gateway.registry import Endpoint
    from gateway.request import Request
    from gateway.transports.connection import Connection


class AccessRevoked(BusEvent, frozen=True):
    """After a logout, user deletion, password change or API-key regeneration: whoever
    keeps identities (OctoPrint's login sessions, push sockets) re-checks them with
    `AccessProvider.identity_valid` at once."""


class AccessProvider(Protocol):
    def check_request(self, endpoint: Endpoint, request: Request) -> None:
        """A registry call (HTTP or JSON-RPC). Raise Unauthorized/Forbidden to refuse;
        may fill `request.caller.user`. HTTP requests carry `request.headers`, and their
        query arguments are in `request.args`."""

    def check_http(
        self,
        method: str,
        path: str,
        ip: str,
        headers: Mapping[str, str],
        query: Mapping[str, list[str]],
        public: bool,
    ) -> dict[str, object] | None:
        """A request to a non-registry HTTP route (upload, download, static, OctoPrint API
        handlers). Returns the user (or None when trusted without one); raises to refuse.
        `public` routes never raise for lack of credentials."""

    def open_websocket(
        self, conn: Connection, headers: Mapping[str, str], query: Mapping[str, list[str]]
    ) -> None:
        """A websocket was accepted: set `conn.trusted` / `conn.user` (one-shot tokens
        arrive as ?token=)."""

    def response_headers(self, request_headers: Mapping[str, str]) -> dict[str, str]:
        """Headers to add to every HTTP answer (CORS) for a request with these headers."""

    def check_origin(self, origin: str, host: str) -> bool:
        """May a browser page from `origin` open a websocket?"""

    def identity_valid(self, user: dict[str, object]) -> bool:
        """Is a user identity handed out earlier still good (not logged out, deleted,
        its password changed, its API key regenerated)? Kept identities (OctoPrint login
        sessions) are checked with this before every use."""

    def token_user(self, token: str) -> dict[str, object] | None:
        """The identity an access token (JWT) stands for, or None."""

    def peer_trusted(self, ip: str) -> bool:
        """Is a connecting peer's address trusted (before any request: connection caps
        apply to the others)?"""
