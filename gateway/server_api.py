"""The server.* methods that belong to the core."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, Protocol

from gateway.api import ServerApi
from gateway.component import Component
from gateway.errors import BadRequest
from gateway.events import WebsocketIdentified
from gateway.logs import LogManager
from gateway.registry import Access
from gateway.request import Request
from gateway.version import API_VERSION, API_VERSION_STRING, MOONRAKER_VERSION


class CoreServer(ServerApi, Protocol):
    """What the server.* methods read beyond a component's view of the server."""

    @property
    def components(self) -> Mapping[str, Component]: ...

    @property
    def failed_components(self) -> list[str]: ...

    @property
    def logs(self) -> LogManager: ...

    klippy_connected: bool
    klippy_state: str


def register(server: CoreServer) -> None:
    api = _ServerApi(server)
    reg = server.register_endpoint
    reg("server.info", api.info, http="GET /server/info")
    reg("server.config", api.config, http="GET /server/config")
    reg(
        "server.connection.identify",
        api.identify,
        access=Access.PUBLIC,
        positional=("client_name", "version", "type", "url"),
    )
    reg("server.websocket.id", api.websocket_id)
    reg("server.restart", api.restart, http="POST /server/restart")
    reg("server.logs.rollover", api.logs_rollover, http="POST /server/logs/rollover")
    reg("server.methods.list", api.methods_list, http="GET /server/methods/list")


class _ServerApi:
    def __init__(self, server: CoreServer) -> None:
        self.server = server

    def info(self, request: Request) -> dict[str, Any]:
        s = self.server
        names: list[str] = []
        for component in s.components.values():
            names.extend(n for n in component.moonraker_names if n not in names)
        return {
            "klippy_connected": s.klippy_connected,
            "klippy_state": s.klippy_state,
            "components": names,
            "failed_components": s.failed_components,
            "registered_directories": s.registered_directories,
            "warnings": s.warnings,
            "websocket_count": len(s.connections),
            "moonraker_version": MOONRAKER_VERSION,
            "missing_klippy_requirements": [],
            "api_version": list(API_VERSION),
            "api_version_string": API_VERSION_STRING,
        }

    def config(self, request: Request) -> dict[str, Any]:
        cfg = self.server.config
        files = []
        if cfg.path is not None:
            files.append({"filename": cfg.path.name, "sections": cfg.sections()})
        return {"config": cfg.as_dict(), "orig": cfg.orig(), "files": files}

    def identify(self, request: Request) -> dict[str, Any]:
        conn = request.caller.connection
        if conn is None:
            raise BadRequest("server.connection.identify is only available over a websocket")
        if conn.client_info.get("identified"):
            raise BadRequest(f"Connection ID '{conn.id}' already identified")
        info: dict[str, Any] = {}
        for name in ("client_name", "version", "type", "url"):
            info[name] = request.get_str(name)
        info["identified"] = True
        self.server.events.emit(WebsocketIdentified(conn, request))
        conn.client_info.update(info)
        return {"connection_id": conn.id}

    def websocket_id(self, request: Request) -> dict[str, Any]:
        conn = request.caller.connection
        if conn is None:
            raise BadRequest("server.websocket.id is only available over a websocket")
        return {"websocket_id": conn.id}

    def restart(self, request: Request) -> str:
        # answer first, then restart: the client gets its "ok"
        asyncio.get_running_loop().call_later(0.05, self.server.request_stop, True)
        return "ok"

    def methods_list(self, request: Request) -> dict[str, Any]:
        """Our own addition: every JSON-RPC method name, for the test client."""
        return {"methods": sorted(self.server.registry.methods)}

    def logs_rollover(self, request: Request) -> dict[str, Any]:
        app = request.get_str("application", None)
        if app not in (None, "moonraker", "skysail"):
            raise BadRequest(f"Unknown application {app}")
        rolled: list[str] = []
        failed: dict[str, str] = {}
        if self.server.logs.rollover():
            rolled.append("moonraker")
        else:
            failed["moonraker"] = "No log file configured"
        return {"rolled_over": rolled, "failed": failed}
