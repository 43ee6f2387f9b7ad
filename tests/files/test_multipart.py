"""The streaming multipart parser on its own: any split of the body parses the same."""

from __future__ import annotations

import os
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.transports.files_multipart import (
    MultipartError,
    MultipartParser,
    PartData,
    PartEnd,
    PartStart,
    boundary_from_content_type,
)

from .conftest import BOUNDARY, multipart

Part = tuple[str, str | None, bytes]


def parse(body: bytes, cuts: list[int], boundary: str = BOUNDARY) -> list[Part]:
    parser = MultipartParser(boundary.encode())
    parts: list[tuple[str, str | None, bytes]] = []
    current: tuple[str, str | None] | None = None
    data = bytearray()
    pieces = [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)], strict=True)]
    for piece in pieces:
        for event in parser.feed(piece):
            if isinstance(event, PartStart):
                current, data = (event.name, event.filename), bytearray()
            elif isinstance(event, PartData):
                data += event.data
            elif isinstance(event, PartEnd):
                assert current is not None
                parts.append((current[0], current[1], bytes(data)))
                current = None
    parser.close()
    assert parser.done
    return parts


# data that looks like the delimiter in every partial way
TRICKY = (b"\r\n--" + BOUNDARY.encode()[:-1] + b"x\r\n-\r\n--\r" + b"\r" * 5
          + b"--" + BOUNDARY.encode() + b"\r")


def test_fields_and_file_in_one_piece() -> None:
    body, _ = multipart({"root": "gcodes", "path": "a/b"}, "x.gcode", b"G28\n")
    assert parse(body, []) == [("root", None, b"gcodes"), ("path", None, b"a/b"),
                               ("file", "x.gcode", b"G28\n")]


@settings(max_examples=200, deadline=None)
@given(payload=st.binary(max_size=600), data=st.data())
def test_any_split_gives_the_same_parts(payload: bytes, data: st.DataObject) -> None:
    payload = payload + TRICKY + payload
    body, _ = multipart({"print": "true"}, "f.gcode", payload)
    cuts = sorted(set(data.draw(st.lists(st.integers(1, len(body) - 1), max_size=12))))
    assert parse(body, cuts) == [("print", None, b"true"), ("file", "f.gcode", payload)]


def test_one_byte_at_a_time() -> None:
    payload = os.urandom(300) + TRICKY
    body, _ = multipart({"a": "1"}, "f.bin", payload)
    assert parse(body, list(range(1, len(body)))) == [("a", None, b"1"),
                                                      ("file", "f.bin", payload)]


def test_large_body_yields_views_without_holding_it() -> None:
    parser = MultipartParser(BOUNDARY.encode())
    head, _ = multipart({}, "big.bin", b"")
    start = head[: head.index(b"\r\n\r\n") + 4]
    events = parser.feed(start)
    assert isinstance(events[0], PartStart)
    rng = random.Random(1)
    total = 0
    for _ in range(50):
        chunk = rng.randbytes(65536)
        for event in parser.feed(chunk):
            assert isinstance(event, PartData)
            total += len(event.data)
        # only a possible partial delimiter is ever held back
        assert len(parser._held) < len(BOUNDARY) + 4
    tail = b"\r\n--" + BOUNDARY.encode() + b"--\r\n"
    events = parser.feed(tail)
    total += sum(len(e.data) for e in events if isinstance(e, PartData))
    assert total == 50 * 65536
    assert isinstance(events[-1], PartEnd) and parser.done


def test_preamble_epilogue_and_quoted_names() -> None:
    b = BOUNDARY
    body = (f"preamble\r\n--{b}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"we\\\"ird; name.gcode\"\r\n\r\nX\r\n--{b}--\r\nepilogue").encode()
    assert parse(body, []) == [("file", 'we"ird; name.gcode', b"X")]
    utf8 = (f"--{b}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"c\u00fcbe.gcode\"\r\n\r\nY\r\n--{b}--\r\n").encode()
    assert parse(utf8, []) == [("file", "c\u00fcbe.gcode", b"Y")]


@pytest.mark.parametrize(
    "body",
    [
        b"--B\r\nno colon\r\n\r\nx\r\n--B--",
        b"--B\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nx\r\n--B--",
        b"--B\r\nContent-Disposition: form-data\r\n\r\nx\r\n--B--",
        b"--Bxx",
    ],
)
def test_malformed_bodies_raise(body: bytes) -> None:
    parser = MultipartParser(b"B")
    with pytest.raises(MultipartError):
        parser.feed(body)
        parser.close()


def test_truncated_body_and_header_limit() -> None:
    parser = MultipartParser(b"B")
    parser.feed(b"--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nabc")
    with pytest.raises(MultipartError, match="Incomplete"):
        parser.close()
    parser = MultipartParser(b"B", max_header_size=100)
    with pytest.raises(MultipartError, match="too large"):
        parser.feed(b"--B\r\nX-Pad: " + b"a" * 200)


def test_boundary_from_content_type() -> None:
    assert boundary_from_content_type('multipart/form-data; boundary="a b"') == b"a b"
    assert boundary_from_content_type("Multipart/Form-Data; charset=x; boundary=zz") == b"zz"
    for bad in ("application/json", "multipart/form-data", "multipart/form-data; boundary="):
        with pytest.raises(MultipartError):
            boundary_from_content_type(bad)
