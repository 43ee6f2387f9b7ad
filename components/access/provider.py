"""The access decisions: who is asking (credentials, trusted address) and may they call.

Implements `gateway.access_hooks.AccessProvider`. Order of checks, as Moonraker's:
JWT (`Authorization: Bearer`, `X-Access-Token`, `?access_token=`), one-shot `?token=`,
`X-Api-Key`; then, unless logins are forced, a trusted address. Presented credentials
that are wrong refuse the request outright (public endpoints ignore them).

A user, as found in `request.caller.user` / `conn.user`, is a dict:
`{"username", "source", "created_on", "auth": "jwt"|"api_key"|"trusted", "session"}`.
"""

from __future__ import annotations

import hmac
import logging
import posixpath
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from components.access.cors import CorsPolicy, same_origin
from components.access.hostnames import HostNames
from components.access.store import StoredUser
from components.access.tokens import OneShotTokens, Sessions, TokenSigner
from components.access.trust import TrustedClients
from components.access.users import API_USER, TRUSTED_USER, Users
from components.access.webtoken import TokenError
from gateway.errors import Forbidden, Unauthorized
from gateway.registry import Access
from gateway.request import Transport

if TYPE_CHECKING:
    from gateway.registry import Endpoint
    from gateway.request import Request
    from gateway.settings import AuthorizationSection
    from gateway.transports.connection import Connection

log = logging.getLogger(__name__)

IDENTIFY = "server.connection.identify"
# thumbnails load in <img> tags, which cannot send credentials (Moonraker's exception)
PUBLIC_IMAGE_ROOT = "/server/files/gcodes/"
PUBLIC_IMAGE_EXTS = (".png", ".jpg")
# identify credentials checked before the handler runs, applied once it succeeded
_PENDING_USER = "access.pending_user"
_SOCKET_IP = "access.client_ip"
# arguments that carry credentials, never passed on to handlers (Moonraker strips them)
CREDENTIAL_ARGS = ("token", "access_token")


class AccessDenied(Unauthorized):
    """401 over HTTP; over JSON-RPC Moonraker answers every 401 with -32602."""

    def __init__(self, message: str = "Unauthorized") -> None:
        super().__init__(message)

    @property
    def rpc_code(self) -> int:
        return -32602


def _is_upgrade(headers: Mapping[str, str]) -> bool:
    return headers.get("Upgrade", "").lower() == "websocket"


def _as_bytes(text: str) -> bytes:
    return text.encode("utf-8", "replace")


class AccessControl:
    def __init__(
        self,
        settings: AuthorizationSection,
        clock: Callable[[], float],
        users: Users,
        connections: Callable[[], Iterable[Connection]],
        hostnames: list[str] | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.users = users
        self.trust = TrustedClients(settings.trusted_clients)
        self.cors = CorsPolicy(settings.cors_domains)
        self.hostnames = HostNames(hostnames or [])
        self.sessions = Sessions(clock)
        self.signer = TokenSigner(clock)
        self.oneshots = OneShotTokens(clock)
        self.api_key = ""
        # bumped when the key is regenerated: identities of the old key are void
        self.api_key_generation = 0
        self.started_at = clock()
        self._connections = connections
        # called after every revocation (the OctoPrint push channel re-checks its clients)
        self.revocation_listeners: list[Callable[[], None]] = []

    # -- identities ---------------------------------------------------------------------

    @property
    def login_required(self) -> bool:
        return self.settings.force_logins and len(self.users) > 0

    def user_identity(self, user: StoredUser, session: str) -> dict[str, Any]:
        return {"username": user.username, "source": user.source,
                "created_on": user.created_on, "auth": "jwt", "session": session}

    def trusted_identity(self) -> dict[str, Any]:
        return {"username": TRUSTED_USER, "source": "moonraker",
                "created_on": self.started_at, "auth": "trusted", "session": None}

    def api_identity(self) -> dict[str, Any]:
        return {"username": API_USER, "source": "moonraker",
                "created_on": self.started_at, "auth": "api_key", "session": None,
                "generation": self.api_key_generation}

    def identity_valid(self, user: dict[str, Any]) -> bool:
        """Is an identity handed out earlier (kept by a socket or an OctoPrint login
        session) still good: its login session alive, its API key still the key?"""
        auth = user.get("auth")
        if auth == "jwt":
            session = user.get("session")
            return (isinstance(session, str) and self.users.get(user["username"]) is not None
                    and self.sessions.active(session, user["username"]))
        if auth == "api_key":
            return (self.settings.enable_api_key
                    and user.get("generation") == self.api_key_generation)
        return auth == "trusted"

    def token_user(self, token: str) -> dict[str, Any] | None:
        """The identity of a valid access token (JWT) we issued, or None."""
        return self.jwt_user(token)

    def jwt_user(self, token: str, token_type: str = "access") -> dict[str, Any] | None:
        try:
            claims = self.signer.verify(token, token_type)
        except TokenError as exc:
            log.debug("refused %s token: %s", token_type, exc)
            return None
        user = self.users.get(claims["username"])
        if user is None or not self.sessions.active(claims["sid"], user.username):
            log.debug("refused %s token: session ended", token_type)
            return None
        return self.user_identity(user, claims["sid"])

    def api_key_valid(self, key: str) -> bool:
        return (
            self.settings.enable_api_key
            and bool(self.api_key)
            and hmac.compare_digest(_as_bytes(key), _as_bytes(self.api_key))
        )

    def _still_valid(self, user: dict[str, Any]) -> bool:
        session = user.get("session")
        return session is None or self.sessions.active(session, user["username"])

    def _from_credentials(
        self,
        ip: str,
        headers: Mapping[str, str],
        arg: Callable[[str], str | None],
        spend_oneshot: bool = True,
    ) -> tuple[dict[str, Any] | None, str]:
        """(user, how) from the credentials presented; (None, "") when there are none.
        Raises AccessDenied for a JWT or API key that is presented but wrong. Public
        routes leave one-shot tokens unspent (the websocket upgrade is one: its token is
        for `open_websocket`)."""
        token = None
        authorization = headers.get("Authorization")
        if authorization is not None and authorization[:7].lower() == "bearer ":
            token = authorization[7:].strip()
        token = token or headers.get("X-Access-Token") or arg("access_token")
        if token:
            user = self.jwt_user(token)
            if user is None:
                raise AccessDenied("Unauthorized: invalid or expired access token")
            return user, "jwt"
        oneshot = arg("token") if spend_oneshot else None
        if oneshot:
            user = self.oneshots.redeem(oneshot, ip)
            if user is not None and self._still_valid(user):
                return user, "oneshot"
            log.info("refused one-shot token from %s (unknown, expired, used or "
                     "issued to another address)", ip)
        key = headers.get("X-Api-Key")
        if key is not None and self.settings.enable_api_key:
            if not self.api_key_valid(key):
                raise AccessDenied("Unauthorized: invalid API key")
            return self.api_identity(), "api_key"
        return None, ""

    def address_trusted(self, ip: str) -> bool:
        return not self.login_required and self.trust.is_trusted(ip)

    def foreign_page(self, headers: Mapping[str, str], api: bool) -> bool:
        """Is this a browser request made by a page from an origin we do not allow?

        Address trust must not let any web site drive the printer through the browser of
        a trusted machine (CSRF): browsers name the page's origin in `Origin` on every
        cross-origin request but simple GETs, and mark those with
        `Sec-Fetch-Site: cross-site` (only checked for API routes: file downloads may be
        plain links from another site)."""
        origin = headers.get("Origin")
        if origin is not None:
            return not (
                same_origin(origin, headers.get("Host", ""))
                or self.cors.allows(origin, self.trust.is_trusted)
            )
        return api and headers.get("Sec-Fetch-Site") == "cross-site"

    def authenticate(
        self,
        ip: str,
        headers: Mapping[str, str],
        arg: Callable[[str], str | None],
        public: bool,
        api: bool = True,
    ) -> tuple[dict[str, Any] | None, str]:
        try:
            user, how = self._from_credentials(ip, headers, arg, spend_oneshot=not public)
        except AccessDenied:
            if not public:
                raise
            user, how = None, ""
        if user is not None:
            return user, how
        if self.address_trusted(ip):
            host = headers.get("Host")
            if not self.hostnames.allowed(host):
                # DNS rebinding: a page whose own name now resolves to us (17.2)
                assert host is not None
                if not public or (_is_upgrade(headers) and not arg("token")):
                    log.info("refused address trust to %s for Host %r", ip, host[:200])
                    raise Forbidden(self.hostnames.refusal(host))
                return None, ""
            if not self.foreign_page(headers, api):
                return self.trusted_identity(), "trusted"
            if not public:
                log.info("refused cross-site request from %s (Origin %s)", ip,
                         headers.get("Origin", "-")[:200])
                raise Forbidden(
                    "Forbidden: request from a web page whose origin is not allowed "
                    "(add it to [authorization] cors_domains)"
                )
        if public:
            return None, ""
        raise AccessDenied()

    # -- AccessProvider -----------------------------------------------------------------

    def check_request(self, endpoint: Endpoint, request: Request) -> None:
        caller = request.caller
        conn = caller.connection
        if conn is not None:
            self._check_socket_call(endpoint, request, conn)
            return
        if caller.transport is Transport.INTERNAL or request.headers is None:
            # internal calls, or JSON-RPC over POST /server/jsonrpc, whose HTTP request
            # BaseHandler.prepare() has already authenticated through check_http
            return
        args = request.args

        def arg(name: str) -> str | None:
            value = args.get(name)
            return value if isinstance(value, str) else None

        ip = self.trust.client_ip(caller.ip, request.headers)
        user, how = self.authenticate(
            ip, request.headers, arg, endpoint.access is Access.PUBLIC
        )
        for name in CREDENTIAL_ARGS:
            args.pop(name, None)
        if how == "oneshot" and endpoint.name == "access.oneshot_token":
            raise Forbidden("Forbidden: a one-shot token cannot be exchanged for another")
        caller.user = user

    def _check_socket_call(self, endpoint: Endpoint, request: Request, conn: Connection) -> None:
        if endpoint.name == IDENTIFY:
            self._check_identify(conn, request)
        elif not conn.authenticated and endpoint.access is not Access.PUBLIC:
            raise AccessDenied()
        request.caller.user = conn.user or (self.trusted_identity() if conn.trusted else None)

    def _check_identify(self, conn: Connection, request: Request) -> None:
        """Moonraker's identify: a JWT or API key authenticates the socket; a wrong one
        (or none on a socket that needs one) is refused and ends any address trust."""
        conn.state.pop(_PENDING_USER, None)
        token = request.args.get("access_token")
        key = request.args.get("api_key")
        user: dict[str, Any] | None = None
        if isinstance(token, str) and token:
            user = self.jwt_user(token)
            if user is None:
                self._distrust(conn, "invalid access token")
                raise AccessDenied("Unauthorized: invalid or expired access token")
        elif isinstance(key, str) and key and conn.user is None:
            if not self.api_key_valid(key):
                self._distrust(conn, "invalid API key")
                raise AccessDenied("Unauthorized: invalid API key")
            user = self.api_identity()
        elif not conn.authenticated:
            raise AccessDenied()
        if user is not None:
            conn.state[_PENDING_USER] = user

    def _distrust(self, conn: Connection, why: str) -> None:
        log.info("websocket %s from %s: %s; connection no longer trusted", conn.id,
                 conn.ip, why)
        conn.trusted = False
        conn.user = None

    def on_identify(self, conn: Connection, request: Request) -> None:
        """The identify call succeeded (WebsocketIdentified)."""
        user = conn.state.pop(_PENDING_USER, None)
        if isinstance(user, dict):
            conn.user = user

    def check_http(
        self,
        method: str,
        path: str,
        ip: str,
        headers: Mapping[str, str],
        query: Mapping[str, list[str]],
        public: bool,
    ) -> dict[str, Any] | None:
        if method == "OPTIONS":
            return None
        if method in ("GET", "HEAD") and path.startswith(PUBLIC_IMAGE_ROOT):
            public = public or posixpath.splitext(path)[1].lower() in PUBLIC_IMAGE_EXTS

        def arg(name: str) -> str | None:
            values = query.get(name)
            return values[-1] if values else None

        user, _ = self.authenticate(
            self.trust.client_ip(ip, headers), headers, arg, public, api=False
        )
        return user

    def open_websocket(
        self, conn: Connection, headers: Mapping[str, str], query: Mapping[str, list[str]]
    ) -> None:
        ip = self.trust.client_ip(conn.ip, headers)
        conn.state[_SOCKET_IP] = ip

        def arg(name: str) -> str | None:
            values = query.get(name)
            return values[-1] if values else None

        try:
            user, _ = self._from_credentials(ip, headers, arg)
        except AccessDenied as exc:
            log.info("websocket from %s: %s", ip, exc.message)
            conn.trusted = False
            conn.user = None
            return
        conn.user = user
        conn.trusted = self.address_trusted(ip) and self.hostnames.allowed(headers.get("Host"))

    def peer_trusted(self, ip: str) -> bool:
        """Is the connecting peer's address in trusted_clients? (Connection caps.)"""
        return self.trust.is_trusted(ip)

    def socket_ip(self, conn: Connection) -> str:
        """The client address of a websocket (behind a trusted proxy: the forwarded one)."""
        ip = conn.state.get(_SOCKET_IP)
        return ip if isinstance(ip, str) else conn.ip

    def response_headers(self, request_headers: Mapping[str, str]) -> dict[str, str]:
        return self.cors.response_headers(request_headers, self.trust.is_trusted)

    def check_origin(self, origin: str, host: str) -> bool:
        return same_origin(origin, host) or self.cors.allows(origin, self.trust.is_trusted)

    # -- revocation ---------------------------------------------------------------------

    def forget_users(self, predicate: Callable[[dict[str, Any]], bool]) -> None:
        """Sockets (and pending one-shot tokens) authenticated as a matching user lose it."""
        for conn in list(self._connections()):
            if conn.user is not None and predicate(conn.user):
                conn.user = None
        self.oneshots.discard(predicate)
        for listener in list(self.revocation_listeners):
            try:
                listener()
            except Exception:
                log.exception("revocation listener failed")
