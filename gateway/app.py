"""The server: config, event bus, method table, database, transports and components."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TypeVar

import tornado.web

from gateway import loader
from gateway.access_hooks import AccessProvider
from gateway.api import Providers
from gateway.carry import CarryOver
from gateway.client_calls import ClientCalls
from gateway.component import Component
from gateway.config import Config
from gateway.database import Database
from gateway.errors import PrinterNotReady
from gateway.events import (
    EventBus,
    ServerStarted,
    WebsocketConnected,
    WebsocketDisconnected,
)
from gateway.hostpolicy import HostPolicy
from gateway.logs import LogManager
from gateway.registry import DuplicateRoute, Endpoint, Registry
from gateway.request import Request
from gateway.settings import DatabaseSection, ServerOptions, ServerSection, WebSection
from gateway.transports.connection import Connection, ConnectionManager
from gateway.transports.guard import GuardSettings
from gateway.transports.http import NotFoundHandler, ServerDelegate
from gateway.transports.jsonrpc import JsonRpcDispatcher, notification_frame
from gateway.transports.listener import Listener
from gateway.transports.static import FRONTEND_ROUTE, FrontendHandler, WelcomeHandler
from gateway.transports.websocket import WebSocketUpgradeHandler

log = logging.getLogger(__name__)
T = TypeVar("T")
# a Tornado route: pattern, handler class, its initialize() arguments
Route = tuple[str, type[tornado.web.RequestHandler], dict[str, object]]

def _test_client_dir() -> Path:
    """The source tree's test/client, or the copy an installed package carries."""
    source = Path(__file__).resolve().parent.parent / "test" / "client"
    if source.is_dir():
        return source
    return Path(sys.prefix) / "share" / "skysail" / "test" / "client"


TEST_CLIENT_DIR = _test_client_dir()


__all__ = ["Server", "ServerOptions", "make_data_dirs"]


def make_data_dirs(data_dir: Path) -> None:
    for sub in ("config", "gcodes", "logs", "database"):
        (data_dir / sub).mkdir(parents=True, exist_ok=True)


class Server:
    """The server (components see it as gateway.api.ServerApi)."""

    def __init__(
        self,
        options: ServerOptions,
        logs: LogManager | None = None,
        carry: CarryOver | None = None,
    ) -> None:
        self.options = options
        # parts of the previous generation handed to this one (server.restart)
        self.carry = carry or CarryOver()
        self.data_dir = options.data_dir
        make_data_dirs(self.data_dir)
        self.host_policy = HostPolicy.load(
            options.host_policy, self.data_dir, options.resolved_config_path)
        self.config = Config.load(options.resolved_config_path, self.host_policy)
        self.server_config = self.config.section("server", ServerSection)
        self.logs = logs or LogManager()
        self.events = EventBus()
        self.registry = Registry()
        self.registry.guard = self.check_access
        # the registry's: server.register_endpoint(name, handler, params=..., http=...)
        self.register_endpoint = self.registry.register
        self.connections = ConnectionManager()
        # requests the server sends to websocket clients (agents) and their answers
        self.client_calls = ClientCalls()
        self.dispatcher = JsonRpcDispatcher(self)
        self.components: dict[str, Component] = {}
        self._providers = Providers()
        self.failed_components: list[str] = []
        for warning in self.host_policy.warnings:
            log.warning("%s", warning)
        self.warnings: list[str] = self.host_policy.warnings + self.config.warnings
        self.registered_directories: list[str] = []
        # the printer component keeps these current; Moonraker calls the printer "klippy"
        self.klippy_connected = False
        self.klippy_state = "disconnected"
        # the access component installs this; until then every peer is trusted
        self.access: AccessProvider | None = None
        # Tornado routes added by components before start (streaming uploads, downloads)
        self._extra_routes: list[Route] = []
        # the paths of those that stream their request body (uploads)
        self._streaming: list[re.Pattern[str]] = []
        db_section = self.config.section("database", DatabaseSection)
        db_folder = (Path(db_section.database_path).expanduser() if db_section.database_path
                     else self.data_dir / "database")
        db_folder.mkdir(parents=True, exist_ok=True)
        self.database = Database(db_folder / "skysail.sqlite")
        self.restart_requested = False
        # set by request_exec: the program the process becomes after stopping (a new
        # installed version), keeping the listening sockets
        self.exec_argv: list[str] | None = None
        self._stopping = asyncio.Event()
        self._all_closed = asyncio.Event()
        self._listener: Listener | None = None
        self._owns_listener = False
        self.port: int | None = None

        from gateway import server_endpoints

        server_endpoints.register(self)
        loader.load_components(self, self.components)

    @property
    def config_file(self) -> Path:
        return self.options.resolved_config_path

    # -- other components (gateway.api) ------------------------------------------------

    def provide(self, api: type[T], provider: T) -> None:
        self._providers.provide(api, provider)

    def lookup(self, api: type[T]) -> T:
        return self._providers.lookup(api)

    def find(self, api: type[T]) -> T | None:
        return self._providers.find(api)

    def withdraw(self, api: type) -> None:
        """No provider of `api` from now on (tests: a component gone)."""
        self._providers.withdraw(api)

    # -- endpoints and notifications --------------------------------------------------

    def send_notification(self, method: str, params: Sequence[object] | None = None) -> None:
        self.connections.broadcast(notification_frame(method, params))

    def add_http_route(
        self,
        pattern: str,
        handler: type[tornado.web.RequestHandler],
        init_kwargs: Mapping[str, object] | None = None,
    ) -> None:
        """A Tornado route for what the method table cannot carry (streaming bodies,
        file downloads), with a handler of gateway.transports (BaseHandler applies access
        checks and CORS). Registry routes take precedence. The same pattern twice is
        refused at start-up."""
        if any(p == pattern for p, _, _ in self._extra_routes):
            raise DuplicateRoute(f"HTTP route {pattern} is already registered")
        self._extra_routes.append((pattern, handler, {"server": self, **(init_kwargs or {})}))
        if getattr(handler, "_stream_request_body", False):
            self._streaming.append(re.compile(pattern + "$"))

    def streams_at(self, path: str) -> bool:
        """Is `path` served by a route that streams its request body (an upload)?"""
        return any(p.match(path) for p in self._streaming)

    def check_access(self, endpoint: Endpoint, request: Request) -> None:
        if self.access is not None:
            self.access.check_request(endpoint, request)
        if endpoint.requires_printer and not self.klippy_connected:
            raise PrinterNotReady()

    def check_websocket_origin(self, origin: str, host: str) -> bool:
        if self.access is not None:
            return self.access.check_origin(origin, host)
        return True

    def http_response_headers(self, request_headers: Mapping[str, str]) -> dict[str, str]:
        if self.access is not None:
            return self.access.response_headers(request_headers)
        return {}

    def connection_opened(self, conn: Connection, headers: Mapping[str, str]) -> None:
        self.connections.add(conn)
        self.events.emit(WebsocketConnected(conn, headers))

    def connection_closed(self, conn: Connection) -> None:
        self.connections.remove(conn)
        self.client_calls.drop(conn)
        if not len(self.connections):
            self._all_closed.set()
        self.events.emit(WebsocketDisconnected(conn))

    def set_printer_state(self, connected: bool, state: str, message: str) -> None:
        self.klippy_connected = connected
        self.klippy_state = state

    # -- lifecycle ----------------------------------------------------------------------

    async def _wait_connections_closed(self, limit: float) -> None:
        if not len(self.connections):
            return
        self._all_closed.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(limit):
                await self._all_closed.wait()

    def make_app(self) -> tornado.web.Application:
        routes: list[Route] = [
            (r"/websocket", WebSocketUpgradeHandler, {"server": self}),
            (
                r"/test/client/(.*)",
                tornado.web.StaticFileHandler,
                {"path": str(TEST_CLIENT_DIR), "default_filename": "index.html"},
            ),
            *self._extra_routes,
        ]
        web = self.config.section("web", WebSection)
        frontend = Path(web.path).expanduser() if web.path else None
        if frontend is not None and not (frontend / "index.html").is_file():
            self.warnings.append(f"[web] path {frontend} has no index.html; not served")
            frontend = None
        if frontend is not None:
            routes.append((FRONTEND_ROUTE, FrontendHandler,
                           {"path": str(frontend), "default_filename": "index.html"}))
        else:
            routes.append((r"/", WelcomeHandler, {"server": self}))
        routes.append((r"/.*", NotFoundHandler, {"server": self}))
        return tornado.web.Application(
            routes,
            compress_response=False,
            log_function=_log_request,
        )

    async def start(self, listener: Listener | None = None) -> None:
        """Start components, then serve on `listener` (a new one from [server] if None,
        owned and closed by this server)."""
        for name, component in list(self.components.items()):
            try:
                await component.start()
            except Exception as exc:
                log.exception("component %s failed to start", name)
                self.failed_components.append(name)
                self.warnings.append(f"Component {name} failed to start: {exc}")
                del self.components[name]
                # undo what its start() had begun (timers, threads, open files)
                try:
                    await component.stop()
                except Exception:
                    log.exception("component %s failed to stop after a failed start", name)
        if listener is None:
            listener = Listener.bind(self.server_config.host, self.server_config.port)
            self._owns_listener = True
        self._listener = listener
        cfg = self.server_config
        listener.attach(
            ServerDelegate(self, self.make_app()),
            max_body_size=cfg.max_upload_size * 1024 * 1024,
            guard=GuardSettings(cfg.header_timeout, cfg.idle_timeout,
                                cfg.max_connections_per_address, cfg.max_untrusted_connections),
            peer_trusted=self._peer_trusted,
        )
        self._warn_unread_sections()
        self.port = listener.port
        await self.carry.close()  # what the previous generation left and nobody took
        log.info("Skysail listening on %s:%d", self.server_config.host, self.port)
        self.events.emit(ServerStarted(self.port or 0))

    def _peer_trusted(self, ip: str) -> bool:
        return self.access is None or self.access.peer_trusted(ip)

    def _warn_unread_sections(self) -> None:
        """Every component has read its sections by now; what is left is unknown."""
        for name in self.config.unread_sections():
            warning = f"Unknown config section [{name}] ignored (no loaded component uses it)"
            log.warning("%s", warning)
            self.warnings.append(warning)

    async def wait_stopped(self) -> None:
        await self._stopping.wait()

    def request_stop(self, restart: bool = False) -> None:
        self.restart_requested = self.restart_requested or restart
        self._stopping.set()

    def request_exec(self, argv: list[str]) -> None:
        """Stop, then replace this process with `argv` (same pid, so a systemd service
        stays up); the listening sockets are handed over, so clients wait instead of
        being refused. If the exec fails, the server restarts in-process."""
        self.exec_argv = list(argv)
        self.request_stop(restart=True)

    async def stop(self) -> None:
        for conn in list(self.connections.connections.values()):
            conn.close(1001, "Server shutting down")
        await self._wait_connections_closed(2.0)
        for name, component in reversed(list(self.components.items())):
            try:
                await component.stop()
            except Exception:
                log.exception("component %s failed to stop", name)
        if self._listener is not None:
            await self._listener.detach()
            if self._owns_listener:
                self._listener.close()
            self._listener = None
        if not self.restart_requested:
            await self.carry.close()
        self.database.close()


_access_log = logging.getLogger("tornado.access")


def _log_request(handler: tornado.web.RequestHandler) -> None:
    # per-request logging at INFO costs more than serving server.info; keep it for debugging
    status = handler.get_status()
    if status >= 500:
        _access_log.warning("%d %s", status, handler._request_summary())
    elif _access_log.isEnabledFor(logging.DEBUG):
        _access_log.debug("%d %s", status, handler._request_summary())


