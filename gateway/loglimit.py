"""Repeated log records are rate-limited (issue 17.4): an attack that makes the server
log the same thing thousands of times a second must not fill the disk, or rotate the
audit trail (failed logins, refusals) out of the log files.

Records are grouped by logger, level and message template (not its arguments, so
"failed login for %r from %s" is one group whatever the user and address): each group
may write BURST records per WINDOW seconds; the rest are counted, and the next record
of the group after the window says how many were left out.
"""

from __future__ import annotations

import logging
import logging.handlers
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

BURST = 20
WINDOW = 60.0
MAX_GROUPS = 2048


class RateLimit:
    def __init__(self, burst: int = BURST, window: float = WINDOW,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.burst = burst
        self.window = window
        self.clock = clock
        # group -> [window start, records written in it, records left out]
        self._groups: dict[tuple[str, int, str], list[float]] = {}

    def admit(self, record: logging.LogRecord) -> int | None:
        """None: leave the record out. Otherwise the number of records of its group
        left out just before it (usually 0)."""
        key = (record.name, record.levelno, str(record.msg))
        now = self.clock()
        group = self._groups.get(key)
        if group is None or now - group[0] >= self.window:
            dropped = int(group[2]) if group is not None else 0
            if len(self._groups) >= MAX_GROUPS and group is None:
                self._groups.clear()
            self._groups[key] = [now, 1.0, 0.0]
            return dropped
        if group[1] < self.burst:
            group[1] += 1
            return 0
        group[2] += 1
        return None


class RateLimitedFileHandler(logging.handlers.RotatingFileHandler):
    def __init__(self, filename: Path, maxBytes: int, backupCount: int,
                 encoding: str) -> None:
        super().__init__(filename, maxBytes=maxBytes, backupCount=backupCount,
                         encoding=encoding)
        self.limit = RateLimit()

    def emit(self, record: logging.LogRecord) -> None:
        dropped = self.limit.admit(record)
        if dropped is None:
            return
        if dropped:
            super().emit(_summary(record, dropped))
        super().emit(record)


class RateLimitedStreamHandler(logging.StreamHandler[TextIO]):
    def __init__(self, stream: TextIO) -> None:
        super().__init__(stream)
        self.limit = RateLimit()

    def emit(self, record: logging.LogRecord) -> None:
        dropped = self.limit.admit(record)
        if dropped is None:
            return
        if dropped:
            super().emit(_summary(record, dropped))
        super().emit(record)


def _summary(record: logging.LogRecord, dropped: int) -> logging.LogRecord:
    return logging.LogRecord(
        record.name, logging.WARNING, record.pathname, record.lineno,
        "%d more records like the next one were left out (more than %d in %.0f s)",
        (dropped, BURST, WINDOW), None)
