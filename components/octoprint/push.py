"""The push channel's messages (gateway.transports.sockjs carries them): `connected` on
open; after authentication `history` once, then `current` about once a second (state,
job, progress, new temperatures, new log lines) and `event` messages as things happen.

A client is authenticated when its upgrade request was (a trusted address, an API key
header) or once it sends `{"auth": "name:session"}` (a session from POST /api/login) or
`{"auth": "<api key>"}` / `{"auth": "name:<api key>"}`.
"""

from __future__ import annotations

import asyncio
import logging
import platform
import time
from typing import TYPE_CHECKING

import msgspec

from components.octoprint.core import Compat
from components.octoprint.history import TemperatureHistory
from components.octoprint.info_routes import OCTOPRINT_VERSION, LoginSessions
from components.octoprint.job import job_info, progress
from gateway.access_hooks import AccessRevoked
from gateway.errors import ServerError
from gateway.transports.sockjs import PushConnection
from gateway.version import VERSION

if TYPE_CHECKING:
    from gateway.api import ServerApi

log = logging.getLogger(__name__)
_encode = msgspec.json.Encoder().encode

INTERVAL = 1.0
MAX_LINES = 300
MAX_CLIENTS = 50
_AUTHED = "octoprint.authenticated"


class PushHub:
    """Implements gateway.transports.sockjs.PushHub."""

    def __init__(self, server: ServerApi, app: Compat, history: TemperatureHistory,
                 sessions: LoginSessions) -> None:
        self.server = server
        self.app = app
        self.history = history
        self.sessions = sessions
        self.clients: set[PushConnection] = set()
        self.logs: list[str] = []
        self.messages: list[str] = []
        self._timer: asyncio.TimerHandle | None = None
        self._new_temps: list[dict[str, object]] = []
        # the access component's "access:revoked" (issue 17.7): re-check at once
        server.events.subscribe(AccessRevoked, lambda _: self.revalidate())

    # -- life cycle ----------------------------------------------------------------------

    def start(self) -> None:
        self._timer = asyncio.get_running_loop().call_later(INTERVAL, self._tick)

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for conn in list(self.clients):
            conn.close(1001, "ServerApi shutting down")

    # -- PushHub -------------------------------------------------------------------------

    def opened(self, conn: PushConnection) -> None:
        # clients still to authenticate wait in the transport's gate, outside these slots
        authenticated = sum(1 for c in self.clients if c.user is not None)
        if conn.user is not None and authenticated >= MAX_CLIENTS:
            conn.close(1013, f"Maximum number of push connections reached ({MAX_CLIENTS})")
            return
        self.clients.add(conn)
        conn.send({"connected": {
            "version": OCTOPRINT_VERSION, "display_version": f"{OCTOPRINT_VERSION} (Skysail "
                                                             f"{VERSION})",
            "branch": None, "python_version": platform.python_version(),
            "plugin_hash": "skysail", "config_hash": "skysail", "debug": False,
            "safe_mode": None, "online": True, "permissions": [],
        }})
        if conn.user is not None:
            self._authenticated(conn)

    def received(self, conn: PushConnection, message: object) -> None:
        if not isinstance(message, dict):
            return
        if "auth" in message:
            self._auth(conn, message["auth"])
        if "throttle" in message:
            value = message["throttle"]
            if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 120:
                conn.state["throttle"] = value

    def closed(self, conn: PushConnection) -> None:
        self.clients.discard(conn)

    # -- authentication ------------------------------------------------------------------

    def _auth(self, conn: PushConnection, value: object) -> None:
        user = self._check_auth(conn, value) if isinstance(value, str) else None
        if user is None:
            conn.send({"reauthRequired": {"reason": "stale"}})
            return
        conn.user = user
        if not conn.state.get(_AUTHED):
            self._authenticated(conn)

    def _valid(self, user: dict[str, object]) -> bool:
        access = self.server.access
        return access is None or access.identity_valid(user)

    def revalidate(self) -> None:
        """After a revocation: sockets whose identity is void stop at once (told to
        authenticate again, then closed)."""
        for conn in list(self.clients):
            if conn.user is not None and not self._valid(conn.user):
                log.info("push client %s: credentials revoked; closing", conn.ip)
                conn.user = None
                conn.state[_AUTHED] = False
                self.clients.discard(conn)
                if conn.open:
                    conn.send({"reauthRequired": {"reason": "logout"}})
                    conn.close(1008, "Credentials revoked")
        self.sessions.end(lambda user: not self._valid(user))

    def _check_auth(self, conn: PushConnection, value: str) -> dict[str, object] | None:
        name, sep, secret = value.rpartition(":")
        if sep:
            user = self.sessions.user(name, secret, self._valid)
            if user is not None:
                return user
        key = secret if sep else value
        access = self.server.access
        if access is None:
            return {"username": "_TRUSTED_USER_", "auth": "trusted"}
        try:
            return access.check_http("GET", "/sockjs/websocket", conn.ip,
                                     {"X-Api-Key": key}, {}, False)
        except ServerError:
            return None

    def _authenticated(self, conn: PushConnection) -> None:
        conn.state[_AUTHED] = True
        body = self._status(history=True)
        conn.send({"history": body})

    # -- messages ------------------------------------------------------------------------

    def _status(self, history: bool = False) -> dict[str, object]:
        app = self.app
        snap = app.snapshot()
        state = app.state(snap)
        sel = app.selection if snap.link != "disconnected" else None
        busy = ([{"origin": sel.origin, "path": sel.path}]
                if sel is not None and snap.active else [])
        return {
            "state": state.as_dict(),
            "job": job_info(sel),
            "progress": progress(sel, snap),
            "currentZ": snap.z,
            "offsets": dict(app.offsets),
            "resends": {"count": 0, "transmitted": 0, "ratio": 0},
            "temps": self.history.recent()[::-1] if history else list(self._new_temps),
            "logs": [] if history else list(self.logs),
            "messages": [] if history else list(self.messages),
            "busyFiles": busy,
            "markings": [],
            "serverTime": time.time(),
        }

    def _tick(self) -> None:
        self._timer = asyncio.get_running_loop().call_later(INTERVAL, self._tick)
        try:
            snap = self.app.snapshot()
            sample = self.history.sample(snap)
            if sample is not None:
                self._new_temps.append(sample)
            ready = [c for c in self.clients if c.state.get(_AUTHED) and c.open]
            if ready:
                self._send_current(ready)
        except Exception:
            log.exception("OctoPrint push update failed")
        self.logs.clear()
        self.messages.clear()
        self._new_temps.clear()

    def _send_current(self, clients: list[PushConnection]) -> None:
        payload = _encode({"current": self._status()})
        now = time.monotonic()
        for conn in clients:
            throttle = conn.state.get("throttle", 1)
            last = conn.state.get("last_current", 0.0)
            if throttle > 2 and now - last < throttle * 0.5 - 0.05:
                continue
            conn.state["last_current"] = now
            conn.send_message(payload)

    def event(self, kind: str, payload: dict[str, object]) -> None:
        message = _encode({"event": {"type": kind, "payload": payload}})
        for conn in list(self.clients):
            if conn.state.get(_AUTHED) and conn.open:
                conn.send_message(message)

    # -- log lines (from the printer's events) ---------------------------------------------

    def on_command(self, script: str) -> None:
        for line in script.splitlines():
            if line.strip():
                self._log(f"Send: {line.strip()}")

    def on_response(self, line: str) -> None:
        self._log(f"Recv: {line}")
        self.messages.append(line)
        if len(self.messages) > MAX_LINES:
            del self.messages[: len(self.messages) - MAX_LINES]

    def _log(self, line: str) -> None:
        self.logs.append(line)
        if len(self.logs) > MAX_LINES:
            del self.logs[: len(self.logs) - MAX_LINES]

