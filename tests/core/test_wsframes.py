"""RFC 6455 framing, one case per frame type and per protocol violation."""

from __future__ import annotations

import os
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.transports import wsframes as wsf


def client_frame(opcode: int, payload: bytes, fin: bool = True, rsv: int = 0,
                 masked: bool = True) -> bytes:
    first = (0x80 if fin else 0) | rsv | opcode
    mask = os.urandom(4)
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", first, (0x80 if masked else 0) | n)
    elif n < 65536:
        head = struct.pack("!BBH", first, (0x80 if masked else 0) | 126, n)
    else:
        head = struct.pack("!BBQ", first, (0x80 if masked else 0) | 127, n)
    if not masked:
        return head + payload
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def parser(limit: int = 1 << 20) -> wsf.FrameParser:
    return wsf.FrameParser(limit)


def test_masked_text_frame_becomes_a_text_message() -> None:
    events = parser().feed(client_frame(wsf.OP_TEXT, '{"a":"é"}'.encode()))
    assert events == [wsf.Message('{"a":"é"}')]


def test_binary_frame_stays_bytes() -> None:
    assert parser().feed(client_frame(wsf.OP_BINARY, b"\x00\xff")) == [wsf.Message(b"\x00\xff")]


@pytest.mark.parametrize("size", [125, 126, 65535, 65536, 200_000])
def test_every_length_encoding_is_read(size: int) -> None:
    payload = b"x" * size
    assert parser().feed(client_frame(wsf.OP_TEXT, payload)) == [wsf.Message(payload.decode())]


def test_frames_split_across_reads_are_reassembled() -> None:
    p = parser()
    data = client_frame(wsf.OP_TEXT, b"hello") + client_frame(wsf.OP_TEXT, b"world" * 40)
    events: list[wsf.Event] = []
    for i in range(len(data)):
        events += p.feed(data[i : i + 1])
    assert events == [wsf.Message("hello"), wsf.Message("world" * 40)]


def test_several_frames_in_one_read_all_come_out() -> None:
    data = b"".join(client_frame(wsf.OP_TEXT, str(i).encode()) for i in range(10))
    assert parser().feed(data) == [wsf.Message(str(i)) for i in range(10)]


def test_fragmented_message_with_interleaved_ping() -> None:
    p = parser()
    events = p.feed(
        client_frame(wsf.OP_TEXT, b"hel", fin=False)
        + client_frame(wsf.OP_PING, b"p")
        + client_frame(wsf.OP_CONTINUATION, b"lo", fin=False)
        + client_frame(wsf.OP_CONTINUATION, b"!", fin=True)
    )
    assert events == [wsf.Ping(b"p"), wsf.Message("hello!")]


def test_close_frame_carries_code_and_reason() -> None:
    payload = struct.pack("!H", 1001) + b"bye"
    assert parser().feed(client_frame(wsf.OP_CLOSE, payload)) == [wsf.Close(1001, "bye")]
    assert parser().feed(client_frame(wsf.OP_CLOSE, b"")) == [wsf.Close(1005, "")]


def test_pong_is_reported() -> None:
    assert parser().feed(client_frame(wsf.OP_PONG, b"x")) == [wsf.Pong(b"x")]


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        (client_frame(wsf.OP_TEXT, b"x", masked=False), wsf.CLOSE_PROTOCOL_ERROR),
        (client_frame(wsf.OP_TEXT, b"x", rsv=0x40), wsf.CLOSE_PROTOCOL_ERROR),
        (client_frame(wsf.OP_PING, b"x" * 126), wsf.CLOSE_PROTOCOL_ERROR),
        (client_frame(wsf.OP_PING, b"x", fin=False), wsf.CLOSE_PROTOCOL_ERROR),
        (client_frame(wsf.OP_CONTINUATION, b"x"), wsf.CLOSE_PROTOCOL_ERROR),
        (client_frame(0x3, b"x"), wsf.CLOSE_PROTOCOL_ERROR),
        (client_frame(wsf.OP_TEXT, b"\xff\xfe"), wsf.CLOSE_INVALID_DATA),
        (client_frame(wsf.OP_CLOSE, b"\x03"), wsf.CLOSE_PROTOCOL_ERROR),
        (client_frame(wsf.OP_TEXT, b"a", fin=False) + client_frame(wsf.OP_TEXT, b"b"),
         wsf.CLOSE_PROTOCOL_ERROR),
    ],
)
def test_protocol_violations_name_their_close_code(frame: bytes, code: int) -> None:
    with pytest.raises(wsf.ProtocolError) as err:
        parser().feed(frame)
    assert err.value.code == code


def test_message_over_the_limit_is_refused_before_it_is_buffered() -> None:
    p = parser(limit=100)
    header_only = client_frame(wsf.OP_TEXT, b"x" * 1000)[:8]
    with pytest.raises(wsf.ProtocolError) as err:
        p.feed(header_only)
    assert err.value.code == wsf.CLOSE_TOO_BIG


def test_fragments_adding_up_over_the_limit_are_refused() -> None:
    p = parser(limit=100)
    p.feed(client_frame(wsf.OP_TEXT, b"x" * 60, fin=False))
    with pytest.raises(wsf.ProtocolError) as err:
        p.feed(client_frame(wsf.OP_CONTINUATION, b"x" * 60))
    assert err.value.code == wsf.CLOSE_TOO_BIG


def test_server_frames_are_unmasked_with_the_right_length() -> None:
    assert wsf.encode_frame(wsf.OP_TEXT, b"hi") == b"\x81\x02hi"
    long = wsf.encode_frame(wsf.OP_TEXT, b"x" * 300)
    assert long[:4] == b"\x81\x7e\x01\x2c"
    huge = wsf.encode_frame(wsf.OP_BINARY, b"x" * 70000)
    assert huge[:2] == b"\x82\x7f" and struct.unpack("!Q", huge[2:10])[0] == 70000
    assert wsf.encode_close(1000, "ok") == b"\x88\x04\x03\xe8ok"


@given(st.binary(max_size=3000), st.binary(min_size=4, max_size=4))
def test_unmask_is_xor_with_the_repeated_key(payload: bytes, mask: bytes) -> None:
    expected = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    assert wsf.unmask(mask, payload) == expected
