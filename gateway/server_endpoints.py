"""The server.* methods that belong to the core."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

from gateway.api import AgentHost, ServerApi
from gateway.component import Component
from gateway.errors import BadRequest, Unauthorized
from gateway.events import WebsocketIdentified
from gateway.logs import LogManager
from gateway.registry import Access, Params
from gateway.request import Request
from gateway.version import API_VERSION, API_VERSION_STRING, MOONRAKER_VERSION

if TYPE_CHECKING:
    from gateway.transports.connection import Connection


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


CLIENT_TYPES = ("web", "mobile", "desktop", "display", "bot", "agent", "other")


class IdentifyArgs(Params):
    client_name: str
    version: str
    type: str
    url: str
    # credentials for the socket; the access component reads them
    access_token: str | None = None
    api_key: str | None = None


class AgentUnauthorized(Unauthorized):
    """As every 401 over JSON-RPC in Moonraker: -32602."""

    def __init__(self) -> None:
        super().__init__("Unauthorized: an agent must authenticate (api_key or access_token)")

    @property
    def rpc_code(self) -> int:
        return -32602


class RolloverArgs(Params):
    application: str | None = None


def register(server: CoreServer) -> None:
    api = _ServerEndpoints(server)
    reg = server.register_endpoint
    reg("server.info", api.info, http="GET /server/info")
    reg("server.config", api.config, http="GET /server/config")
    reg(
        "server.connection.identify",
        api.identify,
        params=IdentifyArgs,
        access=Access.PUBLIC,
        positional=("client_name", "version", "type", "url"),
    )
    reg("server.websocket.id", api.websocket_id)
    reg("server.restart", api.restart, http="POST /server/restart")
    reg("server.logs.rollover", api.logs_rollover, params=RolloverArgs,
        http="POST /server/logs/rollover")
    reg("server.methods.list", api.methods_list, http="GET /server/methods/list")


class _ServerEndpoints:
    def __init__(self, server: CoreServer) -> None:
        self.server = server
        # the components' Moonraker names, worked out again only when the set changes
        # (a failed start removes one): server.info is the most frequent call there is
        self._names: list[str] = []
        self._names_of: tuple[str, ...] = ()

    def _component_names(self) -> list[str]:
        loaded = tuple(self.server.components)
        if loaded != self._names_of:
            names: list[str] = []
            for component in self.server.components.values():
                names.extend(n for n in component.moonraker_names if n not in names)
            self._names, self._names_of = names, loaded
        return self._names

    def info(self, request: Request) -> dict[str, object]:
        s = self.server
        names = self._component_names()
        return {
            "klippy_connected": s.klippy_connected,
            "klippy_state": s.klippy_state,
            "components": list(names),
            "failed_components": s.failed_components,
            "registered_directories": s.registered_directories,
            "warnings": s.warnings,
            "websocket_count": len(s.connections),
            "moonraker_version": MOONRAKER_VERSION,
            "missing_klippy_requirements": [],
            "api_version": list(API_VERSION),
            "api_version_string": API_VERSION_STRING,
        }

    def config(self, request: Request) -> dict[str, object]:
        cfg = self.server.config
        files = []
        if cfg.path is not None:
            files.append({"filename": cfg.path.name, "sections": cfg.sections()})
        return {"config": cfg.as_dict(), "orig": cfg.orig(), "files": files}

    def identify(self, args: IdentifyArgs, request: Request) -> dict[str, object]:
        conn = request.caller.connection
        if conn is None:
            raise BadRequest("server.connection.identify is only available over a websocket")
        if conn.client_info.get("identified"):
            known = {k: conn.client_info.get(k) for k in ("name", "version", "type", "url")}
            raise BadRequest(f"Connection already identified: {known}")
        # Moonraker's client data: name, version, type, url
        info: dict[str, object] = {"name": args.client_name, "version": args.version,
                                "type": args.type.lower(), "url": args.url}
        if info["type"] not in CLIENT_TYPES:
            raise BadRequest(f"Invalid Client Type: {info['type']}")
        # credentials in the call (access_token, api_key) apply here, before an agent
        # is registered (which needs them); a refused agent keeps them, as in Moonraker
        self.server.events.emit(WebsocketIdentified(conn, request))
        if info["type"] == "agent":
            self._register_agent(conn, info)
        conn.client_info.update(info, identified=True)
        return {"connection_id": conn.id}

    def _register_agent(self, conn: Connection, info: dict[str, object]) -> None:
        host = self.server.find(AgentHost)
        if host is None:
            raise BadRequest("Agents are not supported: the extensions component is not loaded")
        if not conn.authenticated:
            # an anonymous socket must not take (or squat) an agent's name
            raise AgentUnauthorized()
        host.register_agent(conn, info)

    def websocket_id(self, request: Request) -> dict[str, object]:
        conn = request.caller.connection
        if conn is None:
            raise BadRequest("server.websocket.id is only available over a websocket")
        return {"websocket_id": conn.id}

    def restart(self, request: Request) -> str:
        # answer first, then restart: the client gets its "ok"
        asyncio.get_running_loop().call_later(0.05, self.server.request_stop, True)
        return "ok"

    def methods_list(self, request: Request) -> dict[str, object]:
        """Our own addition: every JSON-RPC method name, for the test client."""
        return {"methods": sorted(self.server.registry.methods)}

    def logs_rollover(self, args: RolloverArgs, request: Request) -> dict[str, object]:
        app = args.application
        if app not in (None, "moonraker", "skysail"):
            raise BadRequest(f"Unknown application {app}")
        rolled: list[str] = []
        failed: dict[str, str] = {}
        if self.server.logs.rollover():
            rolled.append("moonraker")
        else:
            failed["moonraker"] = "No log file configured"
        return {"rolled_over": rolled, "failed": failed}
