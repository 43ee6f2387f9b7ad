"""The parts of jsonrpcserver we build on: the JSON-RPC 2.0 error codes and its request
schema, which decides what an invalid request is on the (rare) slow path.

jsonrpcserver 5 reads its schema with a deprecated importlib call at import time; the
warning is the library's, so it is silenced here and only here.
"""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from jsonrpcserver import codes as _codes
    from jsonrpcserver.main import default_validator as _schema_validator

PARSE_ERROR: int = _codes.ERROR_PARSE_ERROR
INVALID_REQUEST: int = _codes.ERROR_INVALID_REQUEST
METHOD_NOT_FOUND: int = _codes.ERROR_METHOD_NOT_FOUND
INVALID_PARAMS: int = _codes.ERROR_INVALID_PARAMS
INTERNAL_ERROR: int = _codes.ERROR_INTERNAL_ERROR


def schema_problem(item: object) -> str | None:
    """Why `item` is not a valid JSON-RPC 2.0 request object, per the library's schema."""
    try:
        _schema_validator(item)
    except Exception as exc:  # jsonschema.ValidationError; the library does not type it
        return str(getattr(exc, "message", exc))
    return None
