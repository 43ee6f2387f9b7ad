"""Request headers over Tornado's limit are answered, not dropped (issue 18: no request
goes unanswered).

Tornado reads a request's line and header fields with `max_header_size` (64 KiB) as the
limit and, past it, closes the connection without a word: the client sees a closed
stream. This stream answers first: 414 when the request line alone is over the limit
(a huge query string), 431 otherwise, then closes as Tornado would. (A client still
sending gets a reset after the answer; Linux keeps the answer readable for it, which
tests/core/test_header_limit.py checks.)
"""

from __future__ import annotations

import msgspec
from tornado.iostream import IOStream, UnsatisfiableReadError

# what Tornado's HTTP1Connection reads the header block with
HEADER_PATTERN = b"\r?\n\r?\n"


def _answer(status: int, reason: str, message: str) -> bytes:
    body = msgspec.json.encode({"error": {"code": status, "message": message}})
    return (f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json; charset=UTF-8"
            f"\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body


class AnsweringStream(IOStream):
    """An IOStream that answers a request whose headers are over the limit."""

    def close(self, exc_info: object = False) -> None:
        if (isinstance(exc_info, UnsatisfiableReadError) and not self.closed()
                and self._read_regex is not None
                and self._read_regex.pattern == HEADER_PATTERN):
            self._answer_oversized(self._read_max_bytes or 0)
        super().close(exc_info)  # type: ignore[arg-type]

    def _answer_oversized(self, limit: int) -> None:
        # the request line is whatever comes before the first line break
        line_end = self._read_buffer.find(b"\n", 0, self._read_buffer_size)
        if line_end < 0 or line_end > limit:
            answer = _answer(414, "URI Too Long",
                             f"Request line longer than {limit} bytes")
        else:
            answer = _answer(431, "Request Header Fields Too Large",
                             f"Request headers larger than {limit} bytes")
        try:
            self.socket.send(answer)  # small: fits the empty send buffer at once
        except OSError:
            pass  # the client is gone
