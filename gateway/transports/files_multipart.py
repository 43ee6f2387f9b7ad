"""A small streaming multipart/form-data parser (sans-IO).

Feed it the body as it arrives; it returns events: `PartStart` (name, filename),
`PartData` (a memoryview into the fed chunk - no copy, valid as long as the caller keeps
it) and `PartEnd`. Memory stays bounded whatever the body size: only a possible partial
delimiter (< 80 bytes) and part headers (<= `max_header_size`) are held between feeds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "MultipartError",
    "MultipartParser",
    "PartData",
    "PartEnd",
    "PartStart",
    "boundary_from_content_type",
]


class MultipartError(ValueError):
    """The body is not valid multipart/form-data."""


@dataclass(frozen=True, slots=True)
class PartStart:
    name: str
    filename: str | None
    content_type: str | None


@dataclass(frozen=True, slots=True)
class PartData:
    data: memoryview | bytes


@dataclass(frozen=True, slots=True)
class PartEnd:
    pass


Event = PartStart | PartData | PartEnd
_PART_END = PartEnd()

_PREAMBLE, _HEADERS, _BODY, _AFTER_DELIM, _DONE = range(5)
_TOKEN = re.compile(r'\s*([^=;\s]+)\s*(?:=\s*("(?:[^"\\]|\\.)*"|[^;]*))?\s*(?:;|$)')


def _params(value: str) -> tuple[str, dict[str, str]]:
    """'form-data; name="a"; filename="b.gcode"' -> ('form-data', {...})."""
    kind, _, rest = value.partition(";")
    params: dict[str, str] = {}
    pos = 0
    while pos < len(rest):
        match = _TOKEN.match(rest, pos)
        if match is None or match.end() == pos:
            break
        pos = match.end()
        key, raw = match.group(1).lower(), (match.group(2) or "").strip()
        if raw.startswith('"') and raw.endswith('"') and len(raw) >= 2:
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
        params[key] = raw
    return kind.strip().lower(), params


def boundary_from_content_type(content_type: str) -> bytes:
    kind, params = _params(content_type)
    if kind != "multipart/form-data":
        raise MultipartError("Content-Type must be multipart/form-data")
    boundary = params.get("boundary", "")
    if not 1 <= len(boundary) <= 70:
        raise MultipartError("Invalid multipart boundary")
    return boundary.encode("latin-1")


def _part_start(raw: bytes) -> PartStart:
    name: str | None = None
    filename: str | None = None
    content_type: str | None = None
    for line in raw.split(b"\r\n"):
        if not line:
            continue
        key, sep, value = line.partition(b":")
        if not sep:
            raise MultipartError("Malformed part header")
        # browsers send file names as raw UTF-8 inside the quotes
        text = value.decode("utf-8", errors="replace").strip()
        header = key.strip().lower()
        if header == b"content-disposition":
            kind, params = _params(text)
            if kind != "form-data":
                raise MultipartError("Part is not form-data")
            name = params.get("name")
            filename = params.get("filename")
        elif header == b"content-type":
            content_type = text
    if name is None:
        raise MultipartError("Part without a name")
    return PartStart(name, filename, content_type)


class MultipartParser:
    def __init__(self, boundary: bytes, max_header_size: int = 16 * 1024) -> None:
        # every delimiter, the first included, is matched as CRLF--boundary: the body
        # is parsed as if it started with a CRLF
        self._delim = b"\r\n--" + boundary
        self._max_header = max_header_size
        self._state = _PREAMBLE
        self._held = b"\r\n"  # bytes kept back from the previous feed
        self._in_part = False

    @property
    def done(self) -> bool:
        return self._state == _DONE

    def feed(self, data: bytes) -> list[Event]:
        events: list[Event] = []
        if self._state == _DONE or not data:
            return events
        if self._held:
            data = self._held + data
            self._held = b""
        view = memoryview(data)
        pos = 0
        end = len(data)
        delim = self._delim
        while pos < end:
            state = self._state
            if state in (_PREAMBLE, _BODY):
                idx = data.find(delim, pos)
                if idx < 0:
                    # keep back what could be the start of a delimiter cut by the feed
                    keep = self._partial_delim(data, max(pos, end - len(delim) + 1))
                    if state == _BODY and keep > pos:
                        events.append(PartData(view[pos:keep]))
                    self._held = bytes(view[keep:])
                    return events
                if state == _BODY:
                    if idx > pos:
                        events.append(PartData(view[pos:idx]))
                    events.append(_PART_END)
                    self._in_part = False
                pos = idx + len(delim)
                self._state = _AFTER_DELIM
            elif state == _AFTER_DELIM:
                if end - pos < 2:
                    self._held = bytes(view[pos:])
                    return events
                tail = data[pos:pos + 2]
                if tail == b"--":
                    self._state = _DONE
                    return events
                if tail != b"\r\n":
                    raise MultipartError("Malformed multipart delimiter")
                pos += 2
                self._state = _HEADERS
            elif state == _HEADERS:
                idx = data.find(b"\r\n\r\n", pos)
                if idx < 0:
                    if end - pos > self._max_header:
                        raise MultipartError("Multipart part headers too large")
                    self._held = bytes(view[pos:])
                    return events
                if idx - pos > self._max_header:
                    raise MultipartError("Multipart part headers too large")
                events.append(_part_start(data[pos:idx]))
                self._in_part = True
                pos = idx + 4
                self._state = _BODY
            else:  # _DONE: the epilogue is ignored
                return events
        return events

    def _partial_delim(self, data: bytes, start: int) -> int:
        """Index from which data's tail is a proper prefix of the delimiter (or len)."""
        delim = self._delim
        end = len(data)
        idx = data.find(b"\r", start)
        while idx >= 0:
            if delim.startswith(data[idx:end]):
                return idx
            idx = data.find(b"\r", idx + 1)
        return end

    def close(self) -> None:
        """The body ended: raise unless the closing delimiter was seen."""
        if self._state != _DONE:
            raise MultipartError("Incomplete multipart body")
