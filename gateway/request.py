"""The transport-neutral request a handler receives.

Arguments arrive as JSON values (websocket) or strings (HTTP query/form); the typed
getters convert both and name the argument when they cannot.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import msgspec

from gateway.errors import BadRequest

if TYPE_CHECKING:
    from gateway.transports.connection import Connection

T = TypeVar("T")


class Transport(enum.Enum):
    HTTP = "http"
    WEBSOCKET = "websocket"
    MQTT = "mqtt"
    INTERNAL = "internal"


@dataclass(slots=True)
class Caller:
    """Who is asking: the peer address and, once authenticated, the user."""

    ip: str
    transport: Transport
    user: dict[str, Any] | None = None
    trusted: bool = True
    connection: Connection | None = None


_MISSING: Any = object()
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def _convert_error(name: str, kind: str, value: Any) -> BadRequest:
    return BadRequest(
        f"Unable to convert argument [{name}] to <class '{kind}'>: value received: {value}"
    )


@dataclass(slots=True)
class Request:
    method: str
    args: dict[str, Any]
    caller: Caller
    http_method: str = "POST"
    path_args: dict[str, str] = field(default_factory=dict)
    # HTTP only: the request headers (the access component reads credentials here)
    headers: Mapping[str, str] | None = None

    @property
    def transport(self) -> Transport:
        return self.caller.transport

    @property
    def base_url(self) -> str:
        """HTTP: `http://<Host>` as the client addressed us (for links in answers)."""
        host = self.headers.get("Host", "") if self.headers is not None else ""
        return f"http://{host}" if host else ""

    def _raw(self, name: str, default: Any) -> Any:
        value = self.args.get(name, _MISSING)
        if value is _MISSING:
            if default is _MISSING:
                raise BadRequest(f"No data for argument: {name}")
            return default
        return value

    def has(self, name: str) -> bool:
        return name in self.args

    def get(self, name: str, default: Any = _MISSING) -> Any:
        return self._raw(name, default)

    def get_str(self, name: str, default: Any = _MISSING) -> Any:
        value = self._raw(name, default)
        if value is default or value is None or isinstance(value, str):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        raise _convert_error(name, "str", value)

    def get_int(self, name: str, default: Any = _MISSING) -> Any:
        value = self._raw(name, default)
        if value is default or value is None:
            return value
        if isinstance(value, bool):
            raise _convert_error(name, "int", value)
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                pass
        raise _convert_error(name, "int", value)

    def get_float(self, name: str, default: Any = _MISSING) -> Any:
        value = self._raw(name, default)
        if value is default or value is None:
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value.strip())
            except ValueError:
                pass
        raise _convert_error(name, "float", value)

    def get_bool(self, name: str, default: Any = _MISSING) -> Any:
        value = self._raw(name, default)
        if value is default or value is None or isinstance(value, bool):
            return value
        if isinstance(value, str):
            lowered = value.strip().lower()
            if lowered in _TRUE:
                return True
            if lowered in _FALSE:
                return False
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        raise _convert_error(name, "bool", value)

    def get_list(self, name: str, default: Any = _MISSING) -> Any:
        value = self._raw(name, default)
        if value is default or value is None or isinstance(value, list):
            return value
        if isinstance(value, str):
            # HTTP callers send lists as comma separated strings
            return [v.strip() for v in value.split(",") if v.strip()]
        raise _convert_error(name, "list", value)

    def get_dict(self, name: str, default: Any = _MISSING) -> Any:
        value = self._raw(name, default)
        if value is default or value is None or isinstance(value, dict):
            return value
        if isinstance(value, str):
            try:
                decoded = msgspec.json.decode(value)
            except (msgspec.DecodeError, UnicodeDecodeError):
                decoded = None
            if isinstance(decoded, dict):
                return decoded
        raise _convert_error(name, "dict", value)

    def get_as(self, name: str, tp: type[T], default: Any = _MISSING) -> T:
        """Decode an argument into a msgspec type (for structured arguments)."""
        value = self._raw(name, default)
        if value is default:
            return value  # type: ignore[no-any-return]
        try:
            return msgspec.convert(value, tp, strict=False)
        except msgspec.ValidationError as exc:
            raise BadRequest(f"Invalid argument [{name}]: {exc}") from None


def merge_args(*sources: Mapping[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for source in sources:
        merged.update(source)
    return merged
