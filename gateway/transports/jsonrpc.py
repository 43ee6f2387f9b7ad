"""JSON-RPC 2.0 over any byte channel (websocket frames, POST /server/jsonrpc).

The fast path decodes with msgspec, looks the method up in the registry and encodes the
answer once. Requests on one connection run concurrently: a synchronous handler answers
at once; an async one answers when it finishes, never holding up the next frame.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any

import msgspec

from gateway import jsonrpc_lib as rpc
from gateway.client_calls import is_response
from gateway.errors import InvalidParams, ServerError
from gateway.params import MAX_DEPTH, too_deep
from gateway.registry import Endpoint, Response
from gateway.request import Caller, Request

if TYPE_CHECKING:
    from gateway.transports.host import TransportHost

log = logging.getLogger(__name__)

_decode = msgspec.json.Decoder().decode
_encode = msgspec.json.Encoder().encode

Reply = Callable[[bytes], None]
# a call under way: the handler's awaitable and the request id
Pending = tuple[Awaitable[object], object]
# a batch may hold this many requests; a larger one is answered with one -32600
MAX_BATCH = 256


def error_frame(code: int, message: str, req_id: object, data: object = None) -> bytes:
    error: dict[str, object] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return b'{"jsonrpc":"2.0","error":%s,"id":%s}' % (_encode(error), _encode(req_id))


def result_frame(result: object, req_id: object) -> bytes:
    return b'{"jsonrpc":"2.0","result":%s,"id":%s}' % (_encode(result), _encode(req_id))


def notification_frame(method: str, params: Sequence[object] | None = None) -> bytes:
    if params is None:
        return b'{"jsonrpc":"2.0","method":%s}' % _encode(method)
    return b'{"jsonrpc":"2.0","method":%s,"params":%s}' % (_encode(method), _encode(params))


_NO_ID: object = object()


class _Invalid(Exception):
    def __init__(self, code: int, message: str, req_id: object = None) -> None:
        self.code = code
        self.message = message
        self.req_id = req_id


class JsonRpcDispatcher:
    def __init__(self, server: TransportHost) -> None:
        self._server = server
        self._methods = server.registry.methods
        self._guard = server.registry.guard
        self._tasks: set[asyncio.Task[None]] = set()

    def handle(self, data: bytes | str, caller: Caller, reply: Reply) -> asyncio.Task[None] | None:
        """Dispatch one frame; `reply` is called with the answer (if any) when ready.

        Returns the task still running for it, if any."""
        try:
            message = _decode(data)
        except (msgspec.DecodeError, UnicodeDecodeError):
            reply(error_frame(rpc.PARSE_ERROR, "Parse error", None))
            return None
        except RecursionError:
            reply(error_frame(rpc.INVALID_REQUEST,
                              f"Invalid Request: nested deeper than {MAX_DEPTH} levels", None))
            return None
        if _may_be_deep(data) and too_deep(message, MAX_DEPTH):
            reply(error_frame(rpc.INVALID_REQUEST,
                              f"Invalid Request: nested deeper than {MAX_DEPTH} levels", None))
            return None
        if isinstance(message, list):
            if len(message) > MAX_BATCH:
                reply(error_frame(rpc.INVALID_REQUEST, f"Invalid Request: a batch may hold "
                                  f"at most {MAX_BATCH} requests, got {len(message)}", None))
                return None
            return self._spawn(self._batch(message, caller, reply))
        try:
            outcome = self._start(message, caller)
        except _Invalid as exc:
            reply(error_frame(exc.code, exc.message, exc.req_id))
            return None
        if outcome is None:
            return None
        if isinstance(outcome, bytes):
            reply(outcome)
            return None
        return self._spawn(self._finish_async(outcome, reply))

    async def handle_async(self, data: bytes | str, caller: Caller) -> bytes | None:
        """Whole-answer form for request/response transports (HTTP); None for
        notifications, which get no answer."""
        frames: list[bytes] = []
        task = self.handle(data, caller, frames.append)
        if task is not None:
            await task
        return frames[0] if frames else None

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _finish_async(self, pending: Pending, reply: Reply) -> None:
        frame = await self._await_call(*pending)
        if frame is not None:
            reply(frame)

    async def _batch(self, items: list[object], caller: Caller, reply: Reply) -> None:
        if not items:
            reply(error_frame(rpc.INVALID_REQUEST, "Invalid Request", None))
            return
        frames: list[bytes | None] = []
        pending: list[tuple[int, Pending]] = []
        for item in items:
            try:
                outcome = self._start(item, caller)
            except _Invalid as exc:
                frames.append(error_frame(exc.code, exc.message, exc.req_id))
                continue
            if outcome is None or isinstance(outcome, bytes):
                frames.append(outcome)
            else:
                pending.append((len(frames), outcome))
                frames.append(None)
        if pending:
            results = await asyncio.gather(*(self._await_call(*p) for _, p in pending))
            for (index, _), frame in zip(pending, results, strict=True):
                frames[index] = frame
        answered = [f for f in frames if f is not None]
        if answered:
            reply(b"[" + b",".join(answered) + b"]")

    def _start(self, item: object, caller: Caller) -> bytes | Pending | None:
        """Validate and call. Returns the answer frame, a pending (coroutine, id), or None
        for a notification whose handler ran synchronously (or a client's answer to a
        request the server sent it, which gets no reply)."""
        if isinstance(item, dict) and is_response(item):
            self._server.client_calls.resolve(caller.connection, item)
            return None
        method, params, req_id = self._validate(item)
        endpoint = self._methods.get(method)
        if endpoint is None:
            if req_id is _NO_ID:
                return None
            return error_frame(rpc.METHOD_NOT_FOUND, "Method not found", req_id)
        try:
            args = self._arguments(endpoint, params)
            request = Request(method, args, caller)
            self._guard(endpoint, request)
            if endpoint.is_async:
                return (endpoint.run(request), req_id)
            result = endpoint.run(request)
            if req_id is _NO_ID:
                return None
            return _result_frame(result, req_id)
        except ServerError as exc:
            if req_id is _NO_ID:
                return None
            return error_frame(exc.rpc_code, exc.message, req_id, exc.data)
        except Exception:
            log.exception("JSON-RPC method %s failed", method)
            if req_id is _NO_ID:
                return None
            return error_frame(rpc.INTERNAL_ERROR, "Internal error", req_id)

    async def _await_call(self, coro: Awaitable[object], req_id: object) -> bytes | None:
        try:
            result = await coro
        except ServerError as exc:
            frame = error_frame(exc.rpc_code, exc.message, req_id, exc.data)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("JSON-RPC call failed")
            frame = error_frame(rpc.INTERNAL_ERROR, "Internal error", req_id)
        else:
            if req_id is _NO_ID:
                return None
            try:
                frame = _result_frame(result, req_id)
            except Exception:
                log.exception("JSON-RPC result could not be encoded")
                frame = error_frame(rpc.INTERNAL_ERROR, "Internal error", req_id)
        return None if req_id is _NO_ID else frame

    @staticmethod
    def _validate(item: object) -> tuple[str, object, object]:
        if isinstance(item, dict):
            method = item.get("method")
            params = item.get("params")
            req_id = item.get("id", _NO_ID)
            if (
                item.get("jsonrpc") == "2.0"
                and isinstance(method, str)
                and (params is None or isinstance(params, (dict, list)))
                and (req_id is _NO_ID or req_id is None or _is_id(req_id))
            ):
                return method, params, req_id
            usable_id = req_id if req_id is not _NO_ID and _is_id(req_id) else None
            if isinstance(method, str) and item.get("jsonrpc") == "2.0" and "params" in item:
                raise _Invalid(rpc.INVALID_PARAMS, "Invalid params", usable_id)
            problem = rpc.schema_problem(item) or "invalid member"
            raise _Invalid(rpc.INVALID_REQUEST, f"Invalid Request: {problem}", usable_id)
        problem = rpc.schema_problem(item) or "not an object"
        raise _Invalid(rpc.INVALID_REQUEST, f"Invalid Request: {problem}", None)

    @staticmethod
    def _arguments(endpoint: Endpoint, params: object) -> dict[str, Any]:
        if params is None:
            return {}
        if isinstance(params, dict):
            return params
        if not isinstance(params, list):
            raise InvalidParams("Invalid params: expected an object or an array")
        names = endpoint.positional
        if len(params) > len(names):
            raise InvalidParams(
                f"Invalid params: {endpoint.name} takes at most {len(names)} "
                f"positional parameter(s), got {len(params)}"
            )
        return dict(zip(names, params, strict=False))


def _may_be_deep(data: bytes | str) -> bool:
    """Counting brackets is cheap; walking the value is for frames that might be deep."""
    if isinstance(data, str):
        return data.count("[") > MAX_DEPTH // 2 or data.count("{") > MAX_DEPTH // 2
    return data.count(b"[") > MAX_DEPTH // 2 or data.count(b"{") > MAX_DEPTH // 2


def _result_frame(result: object, req_id: object) -> bytes:
    if type(result) is Response:
        result = result.body
    return result_frame(result, req_id)


def _is_id(value: object) -> bool:
    return isinstance(value, (str, int)) and not isinstance(value, bool)
