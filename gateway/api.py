"""What the server offers the loader and the components: `ServerApi`.

Components are given this interface, never the Server class (gateway/app.py), so
nothing below the server imports it and the server can change behind it.

Components reach each other through published interfaces (each component's `api.py`):

    printer = server.lookup(PrinterApi)     # a provider must be loaded, else start-up stops
    webcams = server.find(WebcamsApi)       # None when no loaded component provides it

A component module declares what it provides and needs (gateway/component.py:
ComponentSpec); the loader registers each provider before the components that need it
are loaded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar

from gateway.config import ConfigError
from gateway.registry import RegisterEndpoint

if TYPE_CHECKING:
    import tornado.web

    from gateway.access_hooks import AccessProvider
    from gateway.carry import CarryOver
    from gateway.client_calls import ClientCalls
    from gateway.config import Config
    from gateway.database import Database
    from gateway.events import EventBus
    from gateway.hostpolicy import HostPolicy
    from gateway.registry import Registry
    from gateway.settings import ServerSection
    from gateway.transports.connection import Connection, ConnectionManager

T = TypeVar("T")


class AgentHost(Protocol):
    """What server.connection.identify needs for clients of type "agent": provided by
    the extensions component (components/extensions), found with server.find(AgentHost)."""

    def register_agent(self, conn: Connection, info: dict[str, object]) -> None:
        """Take `conn` as the agent `info["name"]`; ServerError to refuse."""


class MissingProvider(ConfigError):
    """A component needs an interface that no loaded component provides."""


class ServerApi(Protocol):
    # read-only: a component uses these, it never replaces them
    @property
    def config(self) -> Config: ...

    @property
    def server_config(self) -> ServerSection: ...

    @property
    def data_dir(self) -> Path: ...

    @property
    def config_file(self) -> Path:
        """Where moonraker.conf is (or would be)."""

    @property
    def database(self) -> Database: ...

    @property
    def events(self) -> EventBus: ...

    @property
    def registry(self) -> Registry: ...

    @property
    def connections(self) -> ConnectionManager: ...

    @property
    def client_calls(self) -> ClientCalls:
        """Requests to websocket clients (agents) and their answers."""

    # shown by server.info
    @property
    def warnings(self) -> list[str]: ...

    @property
    def registered_directories(self) -> list[str]: ...

    # installed by the access component; None: every peer is trusted
    access: AccessProvider | None

    @property
    def host_policy(self) -> HostPolicy:
        """Which host paths and programs the config may name (config writes through the
        API are checked with it: `check_config_write`)."""

    # -- other components -----------------------------------------------------------

    def provide(self, api: type[T], provider: T) -> None:
        """Make `provider` the one answer to lookup(api) (the loader does this for what a
        component module declares in `provides`)."""

    def lookup(self, api: type[T]) -> T:
        """The provider of `api`; MissingProvider (start-up stops) if none is loaded."""

    def find(self, api: type[T]) -> T | None:
        """The provider of `api`, or None: for what a component can do without."""

    # -- endpoints, routes, notifications -------------------------------------------

    @property
    def register_endpoint(self) -> RegisterEndpoint: ...

    def add_http_route(
        self,
        pattern: str,
        handler: type[tornado.web.RequestHandler],
        init_kwargs: Mapping[str, object] | None = None,
    ) -> None: ...

    def send_notification(self, method: str, params: Sequence[object] | None = None) -> None: ...

    # -- the printer's connection state (server.info's klippy_*) ----------------------

    def set_printer_state(self, connected: bool, state: str, message: str) -> None: ...

    # -- life cycle -----------------------------------------------------------------

    def request_stop(self, restart: bool = False) -> None: ...

    def request_exec(self, argv: list[str]) -> None:
        """Stop, then replace the process with `argv` (a new installed version)."""

    @property
    def restart_requested(self) -> bool:
        """This generation stops for server.restart: a new one follows in the process."""

    @property
    def carry(self) -> CarryOver:
        """What the previous generation handed this one, and what a stopping one hands
        the next (the printer's serial link and a running print)."""


class Providers:
    """The table behind provide/lookup/find."""

    def __init__(self) -> None:
        self._providers: dict[type, object] = {}

    def provide(self, api: type[T], provider: T) -> None:
        self._providers[api] = provider

    def lookup(self, api: type[T], needed_by: str = "") -> T:
        provider = self._providers.get(api)
        if provider is None:
            who = f"{needed_by} needs" if needed_by else "needed:"
            raise MissingProvider(
                f"{who} {api.__name__}, which no loaded component provides"
            )
        return provider  # type: ignore[return-value]

    def find(self, api: type[T]) -> T | None:
        return self._providers.get(api)  # type: ignore[return-value]

    def withdraw(self, api: type) -> None:
        self._providers.pop(api, None)

