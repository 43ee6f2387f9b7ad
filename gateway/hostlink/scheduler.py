"""The one ordered stream of lines: console/macro scripts and a print.

A script's lines go out back to back; print lines fill the gaps between
scripts; urgent lines (emergency commands without EMERGENCY_PARSER) go first.
"""

from __future__ import annotations

import asyncio
from collections import deque

from .errors import GCodeError
from .job import JobState, StreamJob
from .protocol.events import CommandAcknowledged


class Script:
    """A ``send()`` call: its lines, and the replies gathered for them."""

    __slots__ = ("acked", "error", "failed", "future", "lines", "lockstep", "replies",
                 "submitted")

    def __init__(
        self,
        lines: list[str],
        future: asyncio.Future[list[str]] | None,
        lockstep: bool = False,
    ) -> None:
        self.lines = lines
        self.future = future
        # one line in flight at a time, and nothing else sent in between: a failing line
        # stops the script before the next one has reached the firmware
        self.lockstep = lockstep
        self.submitted = 0
        self.acked = 0
        self.replies: list[str] = []
        self.error: str | None = None
        self.failed: str | None = None

    @property
    def exhausted(self) -> bool:
        # After a failed line the rest of the script is not sent (as Klipper).
        return self.submitted >= len(self.lines) or self.error is not None

    def acknowledged(self, event: CommandAcknowledged) -> bool:
        """Record one line's ok; True when the whole script is done."""
        self.acked += 1
        if event.replies:
            self.replies.extend(event.replies)
        if event.error is not None and self.error is None:
            self.error = event.error
            self.failed = event.command
        if self.acked >= self.submitted and self.exhausted:
            self.resolve()
            return True
        return False

    def resolve(self) -> None:
        future = self.future
        if future is None or future.done():
            return
        if self.error is not None:
            future.set_exception(GCodeError(self.error, self.failed))
        else:
            future.set_result(self.replies)

    def fail(self, exc: Exception) -> None:
        if self.future is not None and not self.future.done():
            self.future.set_exception(exc)
            # the caller may be gone (a handshake cancelled by stop()); an awaiting
            # caller still gets the exception, but asyncio must not log it as lost
            self.future.exception()


class Scheduler:
    """Chooses the next line to offer to the protocol."""

    def __init__(self) -> None:
        self.urgent: deque[Script] = deque()
        self.scripts: deque[Script] = deque()
        self.current: Script | None = None
        self.job: StreamJob | None = None
        self.in_flight: set[Script] = set()  # sent, waiting for oks
        # A line taken from its source and not yet accepted by flow control.
        self._next: tuple[str, Script | StreamJob, int] | None = None

    def peek(self) -> tuple[str, Script | StreamJob, int] | None:
        nxt = self._next
        if nxt is not None:
            owner = nxt[1]
            if isinstance(owner, Script):
                if owner.error is None:
                    return nxt
                self._forget(owner)  # a line of it failed: the rest is not sent
            elif owner.state is JobState.RUNNING:
                return nxt
            else:
                owner.push_back((nxt[0], nxt[2]))  # paused or cancelled meanwhile
                self._next = None
        script = self.urgent[0] if self.urgent else None
        if script is None:
            script = self.current
            if script is not None and script.error is not None:
                self._forget(script)  # a line of it failed: the rest is not sent
                script = None
            if script is None and self.scripts:
                script = self.current = self.scripts.popleft()
        if script is not None:
            if script.lockstep and script.acked < script.submitted:
                return None  # its line in flight holds everything else back
            self._next = (script.lines[script.submitted], script, 0)
            return self._next
        job = self.job
        if job is not None and job.feeding:
            line = job.next_line()
            if line is not None:
                self._next = (line[0], job, line[1])
        return self._next

    def advance(self, n: int) -> None:
        """The peeked line was accepted, as line number ``n``."""
        assert self._next is not None
        owner, tag = self._next[1], self._next[2]
        self._next = None
        if isinstance(owner, Script):
            owner.submitted += 1
            self.in_flight.add(owner)
            if owner.exhausted:
                self._forget(owner)
        else:
            owner.line_sent(n, tag)

    def refuse(self, message: str) -> None:
        """The peeked line cannot be sent (too long for the firmware): its script fails
        with ``message`` once its lines in flight are acknowledged, and sends nothing
        more; a print fails."""
        assert self._next is not None
        command, owner = self._next[0], self._next[1]
        self._next = None
        if isinstance(owner, Script):
            if owner.error is None:
                owner.error = message
                owner.failed = command
            self._forget(owner)
            if owner.acked >= owner.submitted:
                self.in_flight.discard(owner)
                owner.resolve()
        else:
            owner.fail(message)

    def _forget(self, script: Script) -> None:
        """Nothing more of ``script`` will be sent."""
        if self._next is not None and self._next[1] is script:
            self._next = None
        if self.urgent and script is self.urgent[0]:
            self.urgent.popleft()
        elif script is self.current:
            self.current = None

    def drop_all(self, exc: Exception) -> None:
        """Fail every script waiting or in progress (reset, halt, disconnect)."""
        self._next = None
        current = [self.current] if self.current else []
        for script in (*self.in_flight, *self.urgent, *current, *self.scripts):
            script.fail(exc)
        self.in_flight.clear()
        self.urgent.clear()
        self.scripts.clear()
        self.current = None
        if self.job is not None:
            self.job.fail(str(exc))
            self.job = None

    @property
    def idle(self) -> bool:
        return (
            self._next is None
            and not self.urgent
            and not self.scripts
            and self.current is None
            and (self.job is None or not self.job.active)
        )
