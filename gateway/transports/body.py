"""Request bodies read as arguments - the one copy every door uses.

JSON objects, url-encoded forms and multipart form fields become a dict of arguments;
anything else is the client's error (400, or 415 for a content type we do not read).
"""

from __future__ import annotations

import urllib.parse

import msgspec

from gateway.params import MAX_DEPTH, BodyError, decode_query_values, too_deep
from gateway.transports.files_multipart import (
    MultipartError,
    MultipartParser,
    PartData,
    PartEnd,
    PartStart,
    boundary_from_content_type,
)

_decode = msgspec.json.Decoder().decode
JSON_TYPES = ("application/json", "text/json")
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def media_type(content_type: str) -> str:
    return content_type.partition(";")[0].strip().lower()


def is_json(content_type: str) -> bool:
    kind = media_type(content_type)
    return kind in JSON_TYPES or kind.endswith("+json")


def json_object(body: bytes, what: str = "JSON body") -> dict[str, object]:
    """A JSON object, or BodyError naming what is wrong."""
    try:
        decoded = _decode(body)
    except RecursionError:
        raise BodyError(f"Error parsing {what}: nested deeper than {MAX_DEPTH} levels") \
            from None
    except (msgspec.DecodeError, UnicodeDecodeError):
        # msgspec raises UnicodeDecodeError for bad UTF-8 inside a string
        raise BodyError(f"Error parsing {what}: invalid JSON") from None
    if not isinstance(decoded, dict):
        raise BodyError(f"Error parsing {what}: expected a JSON object")
    if (body.count(b"[") > MAX_DEPTH // 2 or body.count(b"{") > MAX_DEPTH // 2) and too_deep(
            decoded):
        raise BodyError(f"Error parsing {what}: nested deeper than {MAX_DEPTH} levels")
    return decoded


def form_fields(content_type: str, body: bytes) -> dict[str, object]:
    """The text fields of a multipart/form-data body (file parts are not arguments)."""
    try:
        parser = MultipartParser(boundary_from_content_type(content_type))
        fields: dict[str, list[str]] = {}
        name: str | None = None
        value = bytearray()
        for event in parser.feed(body):
            if type(event) is PartStart:
                name = None if event.filename is not None else event.name
                value = bytearray()
            elif type(event) is PartData:
                if name is not None:
                    value += event.data
            elif type(event) is PartEnd and name is not None:
                fields.setdefault(name, []).append(value.decode("utf-8", "replace"))
        parser.close()
    except MultipartError as exc:
        raise BodyError(f"Error parsing form body: {exc}") from None
    return decode_query_values(fields)


def body_arguments(content_type: str, body: bytes, *,
                   json_only: bool = False) -> dict[str, object]:
    """The arguments a request body carries. An empty body carries none. A body without
    a content type is read as JSON (what curl-less scripts send)."""
    if not body:
        return {}
    kind = media_type(content_type)
    if not kind or is_json(kind):
        return json_object(body)
    if json_only:
        raise BodyError(f"Unsupported Content-Type '{kind}': expected application/json", 415)
    if kind == "application/x-www-form-urlencoded":
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise BodyError("Error parsing form body: invalid UTF-8") from None
        return decode_query_values(urllib.parse.parse_qs(text, keep_blank_values=True))
    if kind == "multipart/form-data":
        return form_fields(content_type, body)
    raise BodyError(
        f"Unsupported Content-Type '{kind}': expected application/json, "
        "application/x-www-form-urlencoded or multipart/form-data",
        415,
    )
