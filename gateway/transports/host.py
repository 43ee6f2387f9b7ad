"""What the transports need of the server: `TransportHost` (the Server class in
gateway/app.py implements it; the transports never import it)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from gateway.access_hooks import AccessProvider
    from gateway.client_calls import ClientCalls
    from gateway.registry import Endpoint, Registry
    from gateway.request import Caller, Request
    from gateway.settings import ServerSection
    from gateway.transports.connection import Connection, ConnectionManager


class Dispatcher(Protocol):
    """JSON-RPC over a byte channel (gateway/transports/jsonrpc.py)."""

    def handle(
        self, data: bytes | str, caller: Caller, reply: Callable[[bytes], None]
    ) -> asyncio.Task[object] | None: ...

    async def handle_async(self, data: bytes | str, caller: Caller) -> bytes | None: ...


class TransportHost(Protocol):
    @property
    def registry(self) -> Registry: ...

    @property
    def dispatcher(self) -> Dispatcher: ...

    @property
    def server_config(self) -> ServerSection: ...

    @property
    def connections(self) -> ConnectionManager: ...

    @property
    def client_calls(self) -> ClientCalls:
        """Where clients' answers to the server's own requests go (agents)."""

    @property
    def access(self) -> AccessProvider | None: ...

    def check_access(self, endpoint: Endpoint, request: Request) -> None: ...

    def streams_at(self, path: str) -> bool:
        """Is `path` served by a route that streams its request body (an upload)?"""

    def check_websocket_origin(self, origin: str, host: str) -> bool: ...

    def http_response_headers(self, request_headers: Mapping[str, str]) -> dict[str, str]: ...

    def connection_opened(self, conn: Connection, headers: Mapping[str, str]) -> None: ...

    def connection_closed(self, conn: Connection) -> None: ...
