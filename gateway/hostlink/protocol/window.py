"""Flow control: how many lines, and how many bytes, may be in flight.

One line in flight without ADVANCED_OK. With it, several: the bytes still in the
firmware's receive buffer stay below ``rx_buffer_size`` (like AVR's ring buffer,
Marlin's keeps one byte free), where the lines known from the last ``ok``'s ``B`` field
to sit in the command queue no longer count, and at most ``max_in_flight`` lines. After a
resend only one line beyond the accepted ones may be in flight; the limit grows back by
one per ``ok``.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import islice
from typing import Protocol


class _Sized(Protocol):
    wire: bytes


class Window:
    __slots__ = ("_bytes", "_cwnd", "_max_b", "_max_lines", "_ring_bytes", "_ring_count", "_rx")

    def __init__(self, rx_buffer_size: int, max_in_flight: int) -> None:
        self._rx = rx_buffer_size
        self._max_lines = max_in_flight
        # Largest B seen: BUFSIZE - 1 once an ok came with the queue empty.
        # Underestimating only makes the RX estimate more cautious.
        self._max_b = 0
        self.reset()

    def reset(self) -> None:
        self._bytes = 0  # written and not acknowledged
        self._ring_count = 0  # of those lines, how many the firmware has queued (not in RX)
        self._ring_bytes = 0
        # Lines allowed in flight; drops after a resend, grows by one per ok.
        self._cwnd = self._max_lines

    @property
    def bytes_in_flight(self) -> int:
        return self._bytes

    def allows(self, in_flight: int, nbytes: int, several: bool) -> bool:
        """May one more line of ``nbytes`` be written with ``in_flight`` lines out?"""
        if in_flight == 0:
            return True
        if not several or in_flight >= self._cwnd:
            return False
        return self._bytes - self._ring_bytes + nbytes < self._rx

    def sent(self, nbytes: int) -> None:
        self._bytes += nbytes

    def acknowledged(self, nbytes: int) -> None:
        self._bytes -= nbytes
        if self._ring_count:
            self._ring_count -= 1
            self._ring_bytes -= nbytes

    def grow(self) -> None:
        if self._cwnd < self._max_lines:
            self._cwnd += 1

    def queued(self, b: int, unacked: Sequence[_Sized], in_flight: int) -> None:
        """An ok reported ``B<b>`` free command slots: the lines behind it that fill the
        others have left the receive buffer."""
        if b > self._max_b:
            self._max_b = b
        count = min(self._max_b - b, in_flight)
        self._ring_count = count
        total = 0
        for entry in islice(unacked, 0, count):
            total += len(entry.wire)
        self._ring_bytes = total

    def rewound(self, accepted: int, dropped_bytes: int) -> None:
        """A resend: the firmware flushed its buffer; ``accepted`` lines before the
        refused one are queued in the firmware."""
        self._bytes -= dropped_bytes
        self._ring_count = accepted
        self._ring_bytes = self._bytes
        self._cwnd = accepted + 1
