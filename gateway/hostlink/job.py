"""A print streamed from a line iterator through the link."""

from __future__ import annotations

import asyncio
import enum
from collections import deque
from collections.abc import Callable, Iterable, Iterator

from .errors import JobFailed
from .protocol.framing import clean_command, command_word

# Commands that keep the firmware busy for long (heat-up and other waits, homing,
# levelling, dwells): nothing after one is sent until it is acknowledged, so a pause or
# a cancel that breaks the wait (M108) finds nothing else queued in the firmware.
BARRIERS = frozenset({"M109", "M190", "M191", "M116", "G28", "G29", "G4", "M400",
                      "M0", "M1", "M600"})


class JobState(enum.Enum):
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETE = "complete"
    CANCELLED = "cancelled"
    FAILED = "failed"


class StreamJob:
    """Created by :meth:`HostLink.stream`; pulls lines lazily as the link's
    flow control allows.

    ``acknowledged_position`` is the file offset just after the last line the
    firmware acknowledged (comments and blank lines before it included): resume
    a print from there and nothing is run twice or skipped. ``acknowledged_n`` is that
    line's number on the wire and ``in_flight`` the (number, offset after the line) of
    the lines sent and not yet acknowledged: what a firmware that kept running after
    the host died may have executed too. ``numbering_breaks`` counts the places where
    line numbers stop following the file's commands one to one: other lines (console
    commands) numbered between two print lines, or one line of the file sent as several.
    """

    def __init__(self, lines: Iterable[tuple[str, int]], wake: Callable[[], None]) -> None:
        self._lines: Iterator[tuple[str, int]] = iter(lines)
        self._wake = wake
        self.state = JobState.RUNNING
        self.message = ""
        self.acknowledged_position = 0
        self.lines_sent = 0
        self.lines_acknowledged = 0
        self.command_errors: list[str] = []  # non-fatal firmware errors on print lines
        self.acknowledged_n: int | None = None
        self.in_flight: deque[tuple[int, int]] = deque()
        self.numbering_breaks = 0
        self._last_sent_n: int | None = None
        self._last_sent_offset = -1
        self._in_flight = 0
        self._last_offset = 0
        self._exhausted = False
        self._pushback: tuple[str, int] | None = None
        self._given = ""  # the last line handed out by next_line()
        self._barrier = False  # a barrier line is in flight
        loop = asyncio.get_running_loop()
        self._finished: asyncio.Future[JobState] = loop.create_future()
        self._drained = asyncio.Event()
        self._drained.set()

    # ---------------------------------------------------------------- public
    @property
    def active(self) -> bool:
        return self.state in (JobState.RUNNING, JobState.PAUSED)

    def hold(self) -> None:
        """Stop feeding lines at once (pause() then waits for the lines in flight)."""
        if self.state is JobState.RUNNING:
            self.state = JobState.PAUSED

    async def pause(self) -> None:
        """Stop feeding lines; returns once every line already sent is acknowledged."""
        if self.state is JobState.RUNNING:
            self.state = JobState.PAUSED
        await self._drained.wait()

    def resume(self) -> None:
        if self.state is JobState.PAUSED:
            self.state = JobState.RUNNING
            self._wake()
            self._check_complete()

    async def cancel(self) -> None:
        """Stop feeding lines; returns once the lines already sent are acknowledged
        (they cannot be recalled: use M410/M112 to stop motion at once)."""
        if not self.active:
            return
        self.state = JobState.PAUSED
        await self._drained.wait()
        if self.active:
            self._finish(JobState.CANCELLED, "cancelled")

    async def done(self) -> JobState:
        """Wait for the end: COMPLETE or CANCELLED; raises JobFailed with the
        firmware's (or the link's) message if the print failed."""
        state = await asyncio.shield(self._finished)
        if state is JobState.FAILED:
            raise JobFailed(self.message)
        return state

    # --------------------------------------------- used by the link/scheduler
    @property
    def feeding(self) -> bool:
        return self.state is JobState.RUNNING and not self._exhausted and not self._barrier

    def next_line(self) -> tuple[str, int] | None:
        """The next command and the file offset after it; None at the end."""
        if self._pushback is not None:
            line, self._pushback = self._pushback, None
            self._given = line[0]
            return line
        try:
            for raw, offset in self._lines:
                self._last_offset = offset
                command = clean_command(raw)
                if command:
                    if self.state is not JobState.RUNNING:
                        # held while this line was read (a pause at a layer): keep it
                        self._pushback = (command, offset)
                        return None
                    self._given = command
                    return command, offset
        except Exception as exc:  # a read error of the file being printed
            self.fail(f"reading the print file failed: {exc}")
            return None
        self._exhausted = True
        self._check_complete()
        return None

    def push_back(self, line: tuple[str, int]) -> None:
        """A line taken by next_line() that was not sent after all."""
        self._pushback = line

    def line_sent(self, n: int, offset: int) -> None:
        if command_word(self._given) in BARRIERS:
            self._barrier = True
        self._in_flight += 1
        self.lines_sent += 1
        self._drained.clear()
        if self._last_sent_n is not None and n != self._last_sent_n + 1:
            self.numbering_breaks += 1
        if offset == self._last_sent_offset:
            self.numbering_breaks += 1  # two lines for one line of the file
        self._last_sent_n, self._last_sent_offset = n, offset
        self.in_flight.append((n, offset))

    def line_acknowledged(self, n: int | None, offset: int, error: str | None) -> None:
        self._in_flight -= 1
        self.lines_acknowledged += 1
        self.acknowledged_position = offset
        self.acknowledged_n = n
        in_flight = self.in_flight
        while in_flight and in_flight[0][1] != offset:
            in_flight.popleft()
        if in_flight:
            in_flight.popleft()
        if error is not None:
            self.command_errors.append(error)
        if self._in_flight == 0:
            self._barrier = False
            self._drained.set()
            self._check_complete()

    def fail(self, message: str) -> None:
        if self.active:
            self._finish(JobState.FAILED, message)

    def _check_complete(self) -> None:
        if self.state is JobState.RUNNING and self._exhausted and self._in_flight == 0:
            self.acknowledged_position = self._last_offset
            self._finish(JobState.COMPLETE, "")

    def _finish(self, state: JobState, message: str) -> None:
        self.state = state
        self.message = message
        self._drained.set()
        if not self._finished.done():
            self._finished.set_result(state)
