"""HTTP adapter: translates a Tornado request into a registry call and back."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import msgspec
import tornado.web

from gateway.errors import BadRequest, ServerError
from gateway.request import Caller, Request, Transport

if TYPE_CHECKING:
    from gateway.app import Server

log = logging.getLogger(__name__)

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode
_JSON = "application/json; charset=UTF-8"
_BOOL_WORDS = {"true": True, "false": False, "1": True, "0": False}


def _hinted(name: str, value: str) -> tuple[str, Any]:
    """Moonraker's query-string type hints: `count:int=5`, `flag:bool=true`, `x:json=[1]`."""
    base, _, hint = name.partition(":")
    if not hint:
        return name, value
    try:
        if hint == "int":
            return base, int(value)
        if hint == "float":
            return base, float(value)
        if hint == "bool":
            return base, _BOOL_WORDS[value.strip().lower()]
        if hint == "json":
            return base, _decode(value)
    except (ValueError, KeyError, msgspec.DecodeError):
        raise BadRequest(
            f"Unable to convert argument [{base}] to {hint}: value received: {value}"
        ) from None
    raise BadRequest(f"Unknown type hint '{hint}' for argument [{base}]")


def _decode_values(values: dict[str, list[bytes]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, raw in values.items():
        text = raw[-1].decode("utf-8", errors="replace") if raw else ""
        key, value = _hinted(name, text)
        out[key] = value
    return out


def error_body(status: int, message: str) -> bytes:
    return _encode({"error": {"code": status, "message": message}})


class BaseHandler(tornado.web.RequestHandler):
    """JSON errors everywhere, never a traceback."""

    server: Server

    def initialize(self, server: Server) -> None:
        self.server = server

    def set_default_headers(self) -> None:
        self.set_header("Cache-Control", "no-store")

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc_info = kwargs.get("exc_info")
        message = self._reason
        if exc_info is not None and isinstance(exc_info[1], ServerError):
            message = exc_info[1].message
        self.set_header("Content-Type", _JSON)
        self.finish(error_body(status_code, message))

    def send_error_json(self, status: int, message: str) -> None:
        self.set_status(status)
        self.set_header("Content-Type", _JSON)
        self.finish(error_body(status, message))

    def caller(self) -> Caller:
        return Caller(ip=self.request.remote_ip or "", transport=Transport.HTTP)


class ApiHandler(BaseHandler):
    """Every registry route: `GET /server/info` ⇔ `server.info`."""

    async def _dispatch(self, verb: str) -> None:
        found = self.server.registry.lookup_http(self.request.path)
        if found is None:
            self.send_error_json(404, "Not Found")
            return
        verbs, path_args = found
        endpoint = verbs.get(verb)
        if endpoint is None:
            self.send_error_json(405, "Method Not Allowed")
            return
        try:
            args = self._arguments()
            request = Request(
                endpoint.name,
                args,
                self.caller(),
                http_method=verb,
                path_args=path_args,
                headers=self.request.headers,
            )
            self.server.check_access(endpoint, request)
            result = endpoint.handler(request)
            if endpoint.is_async:
                result = await result
        except ServerError as exc:
            self.send_error_json(exc.status, exc.message)
            return
        self.set_header("Content-Type", _JSON)
        self.finish(b'{"result":%s}' % _encode(result))

    def _arguments(self) -> dict[str, Any]:
        args = _decode_values(self.request.query_arguments)
        if self.request.body_arguments:
            args.update(_decode_values(self.request.body_arguments))
        body = self.request.body
        content_type = self.request.headers.get("Content-Type", "")
        if body and (content_type.startswith("application/json") or not content_type):
            try:
                decoded = _decode(body)
            except msgspec.DecodeError:
                raise BadRequest("Error parsing JSON body: invalid JSON") from None
            if not isinstance(decoded, dict):
                raise BadRequest("Error parsing JSON body: expected a JSON object")
            args.update(decoded)
        return args

    async def get(self, *_: str) -> None:
        await self._dispatch("GET")

    async def post(self, *_: str) -> None:
        await self._dispatch("POST")

    async def delete(self, *_: str) -> None:
        await self._dispatch("DELETE")

    async def put(self, *_: str) -> None:
        await self._dispatch("PUT")

    async def patch(self, *_: str) -> None:
        await self._dispatch("PATCH")


class JsonRpcHttpHandler(BaseHandler):
    """POST /server/jsonrpc: a JSON-RPC request (or batch) in the body, the answer back."""

    async def post(self) -> None:
        answer = await self.server.dispatcher.handle_async(self.request.body, self.caller())
        self.set_header("Content-Type", _JSON)
        if answer is None:
            self.set_status(204)
            self.finish()
            return
        self.finish(answer)
