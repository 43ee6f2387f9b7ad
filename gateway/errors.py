"""Errors a handler may raise; each knows its HTTP status and its JSON-RPC code.

Moonraker answers "not found" lookups with -32601 over JSON-RPC and 404 over HTTP;
every other handler error uses the HTTP status number as the JSON-RPC code.
"""

from __future__ import annotations


class ServerError(Exception):
    """An error meant for the client: its message is shown as is."""

    status: int = 500

    def __init__(self, message: str, status: int | None = None, data: object = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        # JSON-RPC's optional `data` member (an agent's own error object, for one)
        self.data = data

    @property
    def rpc_code(self) -> int:
        return self.status


class BadRequest(ServerError):
    status = 400


class InvalidParams(ServerError):
    """Structurally wrong params (JSON-RPC -32602)."""

    status = 400

    @property
    def rpc_code(self) -> int:
        return -32602


class Unauthorized(ServerError):
    status = 401


class Forbidden(ServerError):
    status = 403


class NotFound(ServerError):
    status = 404

    @property
    def rpc_code(self) -> int:
        return -32601


class Conflict(ServerError):
    status = 409


class PrinterNotReady(ServerError):
    """The printer link is down; Moonraker says "Klippy Host not connected"."""

    status = 503

    def __init__(self, message: str = "Klippy Host not connected") -> None:
        super().__init__(message)
