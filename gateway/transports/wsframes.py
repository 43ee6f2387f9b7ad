"""RFC 6455 framing, sans-IO: feed bytes from a client, get messages and control frames.

The server side only: client frames must be masked, server frames are not. No extensions
are negotiated, so RSV bits must be zero.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

OP_CONTINUATION = 0x0
OP_TEXT = 0x1
OP_BINARY = 0x2
OP_CLOSE = 0x8
OP_PING = 0x9
OP_PONG = 0xA

CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001
CLOSE_PROTOCOL_ERROR = 1002
CLOSE_INVALID_DATA = 1007
CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009
CLOSE_TRY_AGAIN_LATER = 1013


class ProtocolError(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(slots=True)
class Message:
    data: str | bytes  # str for text messages, bytes for binary


@dataclass(slots=True)
class Ping:
    payload: bytes


@dataclass(slots=True)
class Pong:
    payload: bytes


@dataclass(slots=True)
class Close:
    code: int
    reason: str


Event = Message | Ping | Pong | Close


def unmask(mask: bytes, payload: bytes) -> bytes:
    """XOR with the 4-byte mask, done as one big-integer operation (C speed)."""
    n = len(payload)
    if n == 0:
        return b""
    key = (mask * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(key, "little")).to_bytes(
        n, "little"
    )


def encode_frame(opcode: int, payload: bytes) -> bytes:
    n = len(payload)
    first = 0x80 | opcode
    if n < 126:
        return struct.pack("!BB", first, n) + payload
    if n < 65536:
        return struct.pack("!BBH", first, 126, n) + payload
    return struct.pack("!BBQ", first, 127, n) + payload


def encode_close(code: int, reason: str = "") -> bytes:
    return encode_frame(OP_CLOSE, struct.pack("!H", code) + reason.encode("utf-8")[:120])


class FrameParser:
    def __init__(self, max_message_size: int) -> None:
        self.max_message_size = max_message_size
        self._buf = bytearray()
        self._fragments: list[bytes] = []
        self._fragment_size = 0
        self._fragment_opcode = 0

    def feed(self, data: bytes) -> list[Event]:
        """Parse every complete frame; raises ProtocolError when the client broke RFC 6455."""
        buf = self._buf
        buf += data
        events: list[Event] = []
        pos = 0
        size = len(buf)
        while size - pos >= 2:
            b0 = buf[pos]
            b1 = buf[pos + 1]
            if b0 & 0x70:
                raise ProtocolError(CLOSE_PROTOCOL_ERROR, "reserved bits set")
            if not b1 & 0x80:
                raise ProtocolError(CLOSE_PROTOCOL_ERROR, "client frames must be masked")
            opcode = b0 & 0x0F
            length = b1 & 0x7F
            head = 2
            if length == 126:
                if size - pos < 4:
                    break
                length = (buf[pos + 2] << 8) | buf[pos + 3]
                head = 4
            elif length == 127:
                if size - pos < 10:
                    break
                length = int.from_bytes(buf[pos + 2 : pos + 10], "big")
                head = 10
            if opcode >= 0x8 and (length > 125 or not b0 & 0x80):
                raise ProtocolError(CLOSE_PROTOCOL_ERROR, "bad control frame")
            if opcode < 0x8 and self._fragment_size + length > self.max_message_size:
                raise ProtocolError(CLOSE_TOO_BIG, "message too big")
            end = pos + head + 4 + length
            if size < end:
                break
            mask = bytes(buf[pos + head : pos + head + 4])
            payload = unmask(mask, bytes(buf[pos + head + 4 : end]))
            pos = end
            event = self._frame(b0 & 0x80 != 0, opcode, payload)
            if event is not None:
                events.append(event)
        if pos:
            del buf[:pos]
        return events

    def _frame(self, fin: bool, opcode: int, payload: bytes) -> Event | None:
        if opcode in (OP_TEXT, OP_BINARY):
            if self._fragments or self._fragment_opcode:
                raise ProtocolError(CLOSE_PROTOCOL_ERROR, "new message inside a fragmented one")
            if fin:
                return self._message(opcode, payload)
            self._fragment_opcode = opcode
            self._fragments = [payload]
            self._fragment_size = len(payload)
            return None
        if opcode == OP_CONTINUATION:
            if not self._fragment_opcode:
                raise ProtocolError(CLOSE_PROTOCOL_ERROR, "continuation without a start")
            self._fragments.append(payload)
            self._fragment_size += len(payload)
            if not fin:
                return None
            whole = b"".join(self._fragments)
            opcode = self._fragment_opcode
            self._fragments = []
            self._fragment_size = 0
            self._fragment_opcode = 0
            return self._message(opcode, whole)
        if opcode == OP_PING:
            return Ping(payload)
        if opcode == OP_PONG:
            return Pong(payload)
        if opcode == OP_CLOSE:
            return _close_event(payload)
        raise ProtocolError(CLOSE_PROTOCOL_ERROR, f"unknown opcode {opcode}")

    @staticmethod
    def _message(opcode: int, payload: bytes) -> Message:
        if opcode == OP_BINARY:
            return Message(payload)
        try:
            return Message(payload.decode("utf-8"))
        except UnicodeDecodeError:
            raise ProtocolError(CLOSE_INVALID_DATA, "text message is not UTF-8") from None


def _close_event(payload: bytes) -> Close:
    if len(payload) == 0:
        return Close(1005, "")
    if len(payload) == 1:
        raise ProtocolError(CLOSE_PROTOCOL_ERROR, "close frame with a 1-byte payload")
    code = struct.unpack("!H", payload[:2])[0]
    try:
        reason = payload[2:].decode("utf-8")
    except UnicodeDecodeError:
        raise ProtocolError(CLOSE_INVALID_DATA, "close reason is not UTF-8") from None
    return Close(code, reason)
