"""The access.* endpoints (HTTP /access/* and JSON-RPC), with Moonraker's shapes."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Annotated, Any

from msgspec import Meta

from components.access.provider import AccessControl, AccessDenied
from components.access.store import AccessStore, new_api_key
from components.access.throttle import LoginThrottle
from components.access.users import API_USER, RESERVED_USERS, SOURCES, public_info
from gateway.errors import BadRequest
from gateway.registry import Access, Params
from gateway.request import Request

if TYPE_CHECKING:
    from gateway.api import ServerApi

log = logging.getLogger(__name__)
DAY = 86400.0

Name = Annotated[str, Meta(max_length=128)]
# long enough for any pass phrase, short enough that hashing it costs nothing unusual
Password = Annotated[str, Meta(max_length=1024)]


class LoginArgs(Params):
    username: Name
    password: Password
    source: str = "moonraker"


class RefreshArgs(Params):
    refresh_token: Annotated[str, Meta(max_length=8192)]


class UserArgs(Params):
    username: Name


class NewUserArgs(LoginArgs):
    pass


class PasswordArgs(Params):
    password: Password
    new_password: Password


class AccessEndpoints:
    def __init__(
        self, server: ServerApi, control: AccessControl, store: AccessStore, throttle: LoginThrottle
    ) -> None:
        self.server = server
        self.control = control
        self.store = store
        self.throttle = throttle
        reg = server.register_endpoint
        reg("access.login", self.login, params=LoginArgs, http="POST /access/login",
            access=Access.PUBLIC)
        reg("access.logout", self.logout, http="POST /access/logout")
        reg("access.refresh_jwt", self.refresh_jwt, params=RefreshArgs,
            http="POST /access/refresh_jwt", access=Access.PUBLIC)
        server.registry.register_rest(
            "access.user",
            "/access/user",
            {"GET": self.get_user, "POST": self.post_user, "DELETE": self.delete_user},
            params={"POST": NewUserArgs, "DELETE": UserArgs},
        )
        reg("access.users.list", self.list_users, http="GET /access/users/list")
        reg("access.user.password", self.password, params=PasswordArgs,
            http="POST /access/user/password")
        server.registry.register_rest(
            "access.api_key", "/access/api_key", {"GET": self.get_api_key,
                                                  "POST": self.post_api_key}
        )
        reg("access.oneshot_token", self.oneshot_token, http="GET /access/oneshot_token")
        reg("access.info", self.info, http="GET /access/info", access=Access.PUBLIC)

    # -- helpers --------------------------------------------------------------------------

    def _client_ip(self, request: Request) -> str:
        conn = request.caller.connection
        if conn is not None:
            return self.control.socket_ip(conn)
        return self.control.trust.client_ip(request.caller.ip, request.headers or {})

    @staticmethod
    def _source(args: LoginArgs) -> str:
        source = args.source.lower()
        if source not in SOURCES:
            raise BadRequest(f"Invalid 'source': {source}")
        return source

    def _tokens(self, username: str) -> tuple[str, str, str]:
        """Open a session: (session id, access token, refresh token)."""
        session = self.control.sessions.open(username, self.control.settings.login_timeout * DAY)
        signer = self.control.signer
        return session.sid, signer.issue(session, "access"), signer.issue(session, "refresh")

    async def _open_session(self, request: Request, username: str, action: str) -> dict[str, Any]:
        user = self.control.users.get(username)
        assert user is not None
        sid, token, refresh = self._tokens(username)
        session = self.control.sessions.get(sid)
        if session is not None:
            await self.store.put_session(session)
        conn = request.caller.connection
        if conn is not None and action == "user_logged_in":
            conn.user = self.control.user_identity(user, sid)
        return {"username": username, "token": token, "source": user.source,
                "refresh_token": refresh, "action": action}

    def _current(self, request: Request) -> dict[str, Any]:
        user = request.caller.user
        if user is None:
            raise BadRequest("No user logged in")
        return user

    async def _end_sessions(self, sids: list[str]) -> None:
        gone = set(sids)
        for sid in sids:
            self.control.sessions.end(sid)
        self.control.forget_users(lambda u: u.get("session") in gone)
        await self.store.delete_sessions(sids)

    # -- logins ---------------------------------------------------------------------------

    async def login(self, args: LoginArgs, request: Request) -> dict[str, Any]:
        username = args.username
        password = args.password
        self._source(args)
        if username in RESERVED_USERS:
            raise BadRequest(f"Invalid Request for user {username}")
        ip = self._client_ip(request)
        # counted before the slow check: parallel guesses cannot all be verified
        self.throttle.attempt(ip)
        user = await self.control.users.verify(username, password)
        if user is None:
            self.throttle.failed(ip, username)
            raise AccessDenied("Invalid username or password")
        self.throttle.succeeded(ip)
        log.info("user %s logged in from %s", username, ip)
        return await self._open_session(request, username, "user_logged_in")

    async def logout(self, request: Request) -> dict[str, Any]:
        user = self._current(request)
        username = user["username"]
        if username in RESERVED_USERS or user.get("session") is None:
            raise BadRequest(f"Invalid log out request for user {username}")
        sid = user["session"]
        self.control.sessions.end(sid)
        # its sockets hear of it before they lose their access
        self.server.send_notification("notify_user_logged_out", [{"username": username}])
        self.control.forget_users(lambda u: u.get("session") == sid)
        await self.store.delete_sessions([sid])
        log.info("user %s logged out", username)
        return {"username": username, "action": "user_logged_out"}

    async def refresh_jwt(self, args: RefreshArgs, request: Request) -> dict[str, Any]:
        user = self.control.jwt_user(args.refresh_token, "refresh")
        if user is None:
            raise AccessDenied("Invalid Refresh Token")
        session = self.control.sessions.get(user["session"])
        assert session is not None
        return {"username": user["username"],
                "token": self.control.signer.issue(session, "access"),
                "source": user["source"], "action": "user_jwt_refresh"}

    # -- users ----------------------------------------------------------------------------

    def get_user(self, request: Request) -> dict[str, Any]:
        user = request.caller.user
        if user is None:
            return {"username": None, "source": None, "created_on": None}
        return {"username": user["username"], "source": user["source"],
                "created_on": user["created_on"]}

    async def post_user(self, args: NewUserArgs, request: Request) -> dict[str, Any]:
        username = args.username
        password = args.password
        source = self._source(args)
        await self.control.users.create(username, password, source)
        log.info("user %s created", username)
        result = await self._open_session(request, username, "user_created")
        self.server.send_notification("notify_user_created", [{"username": username}])
        return result

    async def delete_user(self, args: UserArgs, request: Request) -> dict[str, Any]:
        username = args.username
        current = request.caller.user
        if current is not None and current["username"] == username:
            raise BadRequest(f"Cannot delete logged in user {username}")
        if username in RESERVED_USERS:
            raise BadRequest(f"Invalid Request for reserved user {username}")
        ended = self.control.sessions.end_user(username)
        await self.control.users.delete(username)
        self.control.forget_users(lambda u: u["username"] == username)
        await self.store.delete_sessions(ended)
        log.info("user %s deleted", username)
        self.server.send_notification("notify_user_deleted", [{"username": username}])
        return {"username": username, "action": "user_deleted"}

    def list_users(self, request: Request) -> dict[str, Any]:
        return {"users": [public_info(u) for u in self.control.users.by_name.values()]}

    async def password(self, args: PasswordArgs, request: Request) -> dict[str, Any]:
        old = args.password
        new = args.new_password
        current = self._current(request)
        username = current["username"]
        if username in RESERVED_USERS or current.get("session") is None:
            raise BadRequest(f"Invalid Reset Request for user {username}")
        ip = self._client_ip(request)
        self.throttle.attempt(ip)
        user = await self.control.users.verify(username, old)
        if user is None:
            self.throttle.failed(ip, username)
            raise BadRequest("Invalid Password")
        self.throttle.succeeded(ip)
        await self.control.users.set_password(user, new)
        # every other login of this user ends; this one stays
        ended = self.control.sessions.end_user(username, keep=current["session"])
        await self._end_sessions(ended)
        log.info("user %s changed their password", username)
        return {"username": username, "action": "user_password_reset"}

    # -- API key, one-shot tokens, info ---------------------------------------------------

    def get_api_key(self, request: Request) -> str:
        return self.control.api_key

    async def post_api_key(self, request: Request) -> str:
        key = new_api_key()
        self.control.api_key = key
        self.control.api_key_generation += 1
        self.control.forget_users(lambda u: u["username"] == API_USER)
        await self.store.put_secret("api_key", key)
        log.info("API key regenerated")
        return key

    def oneshot_token(self, request: Request) -> str:
        user = request.caller.user
        if user is None:
            raise AccessDenied()
        return self.control.oneshots.issue(self._client_ip(request), user)

    def info(self, request: Request) -> dict[str, Any]:
        conn = request.caller.connection
        if conn is not None:
            trusted = conn.trusted
        else:
            host = (request.headers or {}).get("Host")
            trusted = (self.control.trust.is_trusted(self._client_ip(request))
                       and self.control.hostnames.allowed(host))
        return {
            "default_source": self.control.settings.default_source,
            "available_sources": list(SOURCES),
            "login_required": self.control.login_required,
            "trusted": trusted,
        }
