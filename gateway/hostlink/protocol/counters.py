"""Link-quality counters kept by the protocol engine and the I/O shell.

Plain integer attributes, bumped where things happen (on the hot path only a few
additions per line); a snapshot is read once a second for the ``mcu`` printer object.
"""

from __future__ import annotations

import msgspec


class LinkCounters:
    __slots__ = (
        "bytes_read",
        "bytes_retransmit",
        "bytes_write",
        "checksum_errors",
        "line_number_errors",
        "lines_acknowledged",
        "lines_sent",
        "other_line_errors",
        "resend_echoes",
        "resends",
        "retransmit_seq",
        "timeouts",
    )

    def __init__(self) -> None:
        self.bytes_write = 0  # written to the port
        self.bytes_read = 0  # read from the port
        self.bytes_retransmit = 0  # of lines written again (resends, silence retransmits)
        self.lines_sent = 0  # numbered lines written the first time
        self.lines_acknowledged = 0
        self.resends = 0  # Resend requests acted upon
        self.resend_echoes = 0  # Resend requests ignored as echoes of an earlier one
        self.checksum_errors = 0  # "checksum mismatch"
        self.line_number_errors = 0  # "Line Number is not Last Line Number+1"
        self.other_line_errors = 0  # no checksum / no line number (torn lines)
        self.timeouts = 0  # silences that made the host send a line again
        self.retransmit_seq = 0  # the line number sent again last

    def snapshot(self) -> LinkStats:
        return LinkStats(**{name: getattr(self, name) for name in self.__slots__})

    @property
    def errors(self) -> int:
        """Every sign of a damaged or lost line, for "did anything go wrong"."""
        return (
            self.checksum_errors
            + self.line_number_errors
            + self.other_line_errors
            + self.timeouts
        )


class LinkStats(msgspec.Struct, frozen=True):
    """A copy of the counters (see LinkCounters for their meaning)."""

    bytes_read: int
    bytes_retransmit: int
    bytes_write: int
    checksum_errors: int
    line_number_errors: int
    lines_acknowledged: int
    lines_sent: int
    other_line_errors: int
    resend_echoes: int
    resends: int
    retransmit_seq: int
    timeouts: int
