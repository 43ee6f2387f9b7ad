"""Requests the server sends to a websocket client, matched with the client's answers.

JSON-RPC is symmetric: an agent (a companion program identified as type `agent`)
answers requests from the server as the server answers its own. The dispatcher hands
every response object it receives (`result` or `error`, no `method`) to `resolve`; a
connection that closes fails its pending calls at once instead of leaving them waiting.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from typing import TYPE_CHECKING, Any

import msgspec

if TYPE_CHECKING:
    from gateway.transports.connection import Connection

log = logging.getLogger(__name__)

_encode = msgspec.json.Encoder().encode


class ClientCallError(Exception):
    """The client answered with a JSON-RPC error object (kept as sent)."""

    def __init__(self, error: object) -> None:
        super().__init__(f"client answered with an error: {error!r}"[:200])
        self.error = error


class ClientGone(Exception):
    """The connection closed before it answered."""


class ClientTimeout(Exception):
    """No answer in time."""


def request_frame(method: str, params: list[object] | dict[str, object] | None,
                  req_id: int) -> bytes:
    message: dict[str, object] = {"jsonrpc": "2.0", "method": method}
    if params:
        message["params"] = params
    message["id"] = req_id
    return _encode(message)


def is_response(item: object) -> bool:
    """A JSON-RPC response object (an answer to a request we sent)."""
    return (
        isinstance(item, dict)
        and "method" not in item
        and ("result" in item or "error" in item)
        and "id" in item
    )


class ClientCalls:
    def __init__(self) -> None:
        self._ids = itertools.count(1)
        # (connection id, request id) -> the caller waiting for the answer
        self._pending: dict[tuple[int, Any], asyncio.Future[object]] = {}

    def __len__(self) -> int:
        return len(self._pending)

    async def call(
        self,
        conn: Connection,
        method: str,
        params: list[object] | dict[str, object] | None,
        timeout: float,
    ) -> object:
        """Send a request to `conn` and return its `result`. Raises ClientCallError (its
        error object), ClientGone or ClientTimeout."""
        req_id = next(self._ids)
        key = (conn.id, req_id)
        future: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            conn.send_bytes(request_frame(method, params, req_id))
            async with asyncio.timeout(timeout):
                return await future
        except TimeoutError:
            raise ClientTimeout() from None
        finally:
            self._pending.pop(key, None)

    def resolve(self, conn: Connection | None, item: dict[str, object]) -> bool:
        """Settle the call `item` answers; False if nothing waited for it."""
        if conn is None:
            return False
        future = self._pending.pop((conn.id, item.get("id")), None)
        if future is None or future.done():
            log.debug("answer from connection %s matches no request: %.200r", conn.id, item)
            return False
        if "error" in item and item.get("result") is None:
            future.set_exception(ClientCallError(item["error"]))
        else:
            future.set_result(item.get("result"))
        return True

    def drop(self, conn: Connection) -> None:
        """The connection closed: every call still waiting on it fails now."""
        for key in [k for k in self._pending if k[0] == conn.id]:
            future = self._pending.pop(key)
            if not future.done():
                future.set_exception(ClientGone())
