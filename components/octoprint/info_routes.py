"""Version, server, login and current user, connection, timelapse and system commands."""

from __future__ import annotations

import collections
import platform
import secrets
from collections.abc import Callable
from typing import Any

from components.octoprint import params as p
from components.octoprint.core import Compat
from components.octoprint.users import display_name
from components.octoprint.web import NO_CONTENT, ApiError, Table
from components.printer.api import SerialPort
from components.timelapse.api import TimelapseApi
from gateway.errors import ServerError
from gateway.registry import Response
from gateway.request import Request
from gateway.version import VERSION

# the OctoPrint version we answer as: Moonraker's choice, known to satisfy the slicers
OCTOPRINT_VERSION = "1.5.0"
API_VERSION = "0.1"
BAUDRATES = [250000, 230400, 115200, 57600, 38400, 19200, 9600]
MAX_SESSIONS = 256
PERMISSIONS = ["ADMIN", "STATUS", "CONNECTION", "CONTROL", "FILES_LIST", "FILES_UPLOAD",
               "FILES_DOWNLOAD", "FILES_DELETE", "FILES_SELECT", "PRINT", "GCODE_VIEWER",
               "MONITOR_TERMINAL", "SETTINGS_READ", "SETTINGS", "WEBCAM", "TIMELAPSE_LIST"]


_MECHANISMS = {"jwt": "password", "api_key": "apikey", "trusted": "trusted"}


def _same_identity(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return (a.get("username"), a.get("auth"), a.get("session")) == (
        b.get("username"), b.get("auth"), b.get("session"))


class LoginSessions:
    """Sessions handed out by `POST /api/login`: what a push client presents as
    `{"auth": "name:session"}`. In memory, the newest MAX_SESSIONS. Each keeps the
    identity it was opened for (a login session of the access component, the API key,
    a trusted address), checked before every use: a logout, password change, user
    deletion or new API key ends it at once."""

    def __init__(self) -> None:
        self._sessions: collections.OrderedDict[str, tuple[str, dict[str, object]]] = (
            collections.OrderedDict())

    def open(self, user: dict[str, object]) -> str:
        session = secrets.token_hex(32)
        self._sessions[session] = (display_name(user) or "", user)
        while len(self._sessions) > MAX_SESSIONS:
            self._sessions.popitem(last=False)
        return session

    def user(self, name: str, session: str,
             valid: Callable[[dict[str, Any]], bool]) -> dict[str, Any] | None:
        found = self._sessions.get(session)
        if found is None or found[0] != name:
            return None
        if not valid(found[1]):
            del self._sessions[session]
            return None
        return found[1]

    def end(self, predicate: Callable[[dict[str, Any]], bool]) -> int:
        """End every session whose identity matches; how many ended."""
        gone = [s for s, (_, user) in self._sessions.items() if predicate(user)]
        for session in gone:
            del self._sessions[session]
        return len(gone)


class InfoRoutes:
    def __init__(self, app: Compat, sessions: LoginSessions) -> None:
        self.app = app
        self.sessions = sessions

    @property
    def serial_cfg(self) -> SerialPort:
        printer = self.app.printer
        return printer.serial_port if printer is not None else SerialPort("", 0)

    def routes(self) -> Table:
        return {
            "/api/version": ("version", {"GET": (self.version, None)}),
            "/api/server": ("server", {"GET": (self.server_info, None)}),
            "/api/currentuser": ("currentuser", {"GET": (self.current_user, None)}),
            "/api/logout": ("logout", {"POST": (self.logout, None)}),
            "/api/connection": ("connection", {
                "GET": (self.get_connection, None),
                "POST": (self.post_connection, p.ConnectionArgs)}),
            "/api/timelapse": ("timelapse", {
                "GET": (self.get_timelapse, None),
                "POST": (self.post_timelapse, p.TimelapseArgs)}),
            "/api/system/commands": ("system.commands", {
                "GET": (self.system_commands, None)}),
            "/api/system/commands/{source}": ("system.source", {
                "GET": (self.system_source, p.SourceArgs)}),
            "/api/system/commands/{source}/{action}": ("system.action", {
                "POST": (self.system_action, p.ActionArgs)}),
        }

    def public_routes(self) -> Table:
        """Answered without credentials (the route itself decides)."""
        return {"/api/login": ("login", {"POST": (self.login, p.LoginArgs)})}

    # -- identity ----------------------------------------------------------------------

    async def version(self, request: Request) -> object:
        return {"api": API_VERSION, "server": OCTOPRINT_VERSION,
                "text": f"OctoPrint (Skysail {VERSION})"}

    async def server_info(self, request: Request) -> object:
        return {"version": OCTOPRINT_VERSION, "safemode": None}

    async def current_user(self, request: Request) -> object:
        user = request.caller.user
        if user is None:
            return {"name": None, "permissions": [], "groups": ["guests"]}
        return {"name": display_name(user), "permissions": PERMISSIONS,
                "groups": ["admins", "users"]}

    async def login(self, args: p.LoginArgs, request: Request) -> object:
        user = request.caller.user
        if args.user is not None and args.password is not None:
            user = await self._password_login(request, args.user, args.password)
        elif args.passive is False or (args.passive is None
                                       and set(request.args) - {"apikey"}):
            # nothing given at all (no body) is a passive check of the current user, as
            # OctoPrint and Moonraker's shim answer it; apps send it that way
            raise ApiError(400, "Neither user and pass attributes nor passive flag present")
        if user is None:
            raise ApiError(403, "User doesn't exist or account is disabled")
        return self._record(user)

    async def _password_login(self, request: Request, name: str,
                              password: str) -> dict[str, object]:
        """An active login: the access component checks the password (and throttles)."""
        try:
            result = await self.app.call_method(
                "access.login", {"username": name, "password": password}, request.caller)
        except ServerError:
            raise ApiError(403, "User doesn't exist or account is disabled") from None
        # the identity of that login session, so that its logout, a password change or
        # the user's deletion ends this session too
        access = self.app.server.access
        user = access.token_user(result["token"]) if access is not None else None
        if user is None:
            raise ApiError(403, "User doesn't exist or account is disabled")
        return user

    def _record(self, user: dict[str, object]) -> dict[str, object]:
        name = display_name(user)
        return {"name": name, "active": True, "admin": True, "user": True, "apikey": None,
                "groups": ["admins", "users"], "permissions": PERMISSIONS,
                "roles": ["user", "admin"], "needs": {"group": ["admins", "users"],
                                                      "role": ["admin", "user"]},
                "settings": {}, "session": self.sessions.open(user),
                "_is_external_client": False,
                "_login_mechanism": _MECHANISMS.get(str(user.get("auth")), "apikey")}

    async def logout(self, request: Request) -> object:
        """Ends the push sessions opened by this caller's identity (OctoPrint ends the
        cookie's; there are no cookies here)."""
        user = request.caller.user
        if user is not None:
            self.sessions.end(lambda u: _same_identity(u, user))
        return {"name": None, "permissions": [], "groups": ["guests"]}

    # -- connection --------------------------------------------------------------------

    def _port(self) -> str:
        return "VIRTUAL" if self.serial_cfg.port == "virtual" else self.serial_cfg.port

    async def get_connection(self, request: Request) -> object:
        snap = self.app.snapshot()
        connected = snap.link != "disconnected"
        state = self.app.state(snap).text if connected else "Closed"
        port = self._port()
        return {
            "current": {"state": state, "port": port if connected else None,
                        "baudrate": self.serial_cfg.baud if connected else None,
                        "printerProfile": "_default"},
            "options": {"ports": [port], "baudrates": sorted({*BAUDRATES,
                                                              self.serial_cfg.baud},
                                                             reverse=True),
                        "printerProfiles": [{"id": "_default", "name": "Default"}],
                        "portPreference": port, "baudratePreference": self.serial_cfg.baud,
                        "printerProfilePreference": "_default", "autoconnect": True},
        }

    async def post_connection(self, args: p.ConnectionArgs, request: Request) -> Response:
        if isinstance(args, p.FakeAck):
            return NO_CONTENT
        printer = self.app.printer
        if printer is None:
            raise ApiError(409, "No printer")
        if isinstance(args, p.Disconnect):
            try:
                await printer.disconnect()
            except ServerError as exc:
                raise ApiError(409, exc.message) from None
            return NO_CONTENT
        port = args.port
        if port is not None and port not in (self._port(), "AUTO", self.serial_cfg.port):
            raise ApiError(400, "port is invalid")
        baudrate = args.baudrate
        if baudrate is not None and baudrate not in (0, self.serial_cfg.baud):
            raise ApiError(400, "baudrate is invalid")
        profile = args.printer_profile
        if profile is not None and profile != "_default":
            raise ApiError(400, "printerProfile is invalid")
        await printer.connect()
        return NO_CONTENT

    # -- nothing to offer ----------------------------------------------------------------

    async def post_timelapse(self, args: p.TimelapseArgs, request: Request) -> object:
        # the timelapse component (loaded with a [timelapse] section) answers when present
        timelapse = self.app.server.find(TimelapseApi)
        if timelapse is not None:
            given: dict[str, object] = {
                k: v for k, v in (("type", args.type), ("fps", args.fps),
                                  ("interval", args.interval)) if v is not None}
            return await timelapse.octoprint_configure(given)
        return await self.get_timelapse(request)

    async def get_timelapse(self, request: Request) -> object:
        timelapse = self.app.server.find(TimelapseApi)
        if timelapse is not None:
            return await timelapse.octoprint_listing()
        return {"config": {"type": "off"}, "enabled": False, "files": [], "unrendered": []}

    async def system_commands(self, request: Request) -> object:
        return {"core": [], "custom": []}

    async def system_source(self, args: p.SourceArgs, request: Request) -> object:
        if args.source not in ("core", "custom"):
            raise ApiError(404, "Unknown source")
        return []

    async def system_action(self, args: p.ActionArgs, request: Request) -> object:
        raise ApiError(404, "Command not found")


def python_version() -> str:
    return platform.python_version()
