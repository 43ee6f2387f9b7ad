"""The sans-I/O Marlin host protocol engine.

Feed it bytes from the firmware (:meth:`MarlinProtocol.feed`), offer it lines
to send (:meth:`MarlinProtocol.submit`), write what :meth:`data_to_send`
returns, and read the :meth:`events` it produced. No clock and no I/O: the
owner calls :meth:`retransmit` / :meth:`resend_ok_absent` when its timers say
so.

How acknowledgements stay exact
-------------------------------
Marlin accepts a numbered line only if ``N == last_N + 1`` (M110 excepted) and
answers each accepted line with exactly one ``ok``, in order. Rejected lines
get ``Error:`` + ``Resend: last_N+1`` (Marlin 2.1 adds a bare ``ok``), and every
line still in its RX buffer is silently thrown away. So the stream of ``ok``s,
minus the bare ones that follow ``Resend``, maps one-to-one and in order onto
the unacknowledged lines: each ``ok`` acknowledges the oldest one. With
ADVANCED_OK the ``N`` in ``ok N.. P.. B..`` names the line and resynchronises
(lost ``ok``s are covered by a later one). Because the firmware itself refuses
duplicates and gaps, re-sending is always safe; what the firmware executes is
exactly the submitted sequence.

The one hard part is ``Resend`` requests caused by lines that were already in
transit when the firmware threw its buffer away: they all name the same line
as the first request. After a rewind, up to as many repeats as there were
lines behind the rejected one are treated as such echoes and ignored; if the
guess is wrong the owner's recovery timer calls :meth:`retransmit`, whose
duplicate the firmware either accepts (it was lost) or rejects harmlessly.

Flow control (how many lines may be in flight) is in ``window.py``; the meaning of
message lines (reports, listings, prompts) in ``messages.py``.
"""

from __future__ import annotations

from collections import deque
from itertools import islice

from .events import (
    CommandAcknowledged,
    ErrorKind,
    FirmwareError,
    FirmwareStarted,
    FirmwareWaiting,
    LineAbandoned,
    LineReceived,
    LineSent,
    ProtocolFailure,
    ResendRequested,
    TemperatureReport,
)
from .parsing import (
    classify_error,
    parse_last_line,
    parse_ok,
    parse_resend,
    parse_temperatures,
    unknown_command,
)
from .sender import PROBE_LINE, AdvancedOk, Entry, LineSender

__all__ = ["PROBE_LINE", "AdvancedOk", "MarlinProtocol"]

# A line refused this many times in a row while packed: MeatPack is switched off.
_PACKED_RESEND_LIMIT = 3


class MarlinProtocol(LineSender):
    """Line numbering, checksums, flow control, resends and line parsing."""

    # ------------------------------------------------------------ timers' calls
    def retransmit(self) -> bool:
        """Send the oldest unacknowledged line again (the owner's silence or
        recovery timer fired). Safe: the firmware accepts the copy if the
        original was lost and rejects it (``Resend`` of the next line) if not.
        """
        if self._learn_pending:
            self.resend_ok_absent()
            return True
        target = None
        for entry in islice(self._unacked, 0, self._sent):
            if entry.n is None:
                continue
            if not self._recovering or entry.n == self._recover_target:
                target = entry
                break
        if target is None:
            # Only out-of-band lines are waiting: their oks were lost.
            while self._sent and self._unacked[0].n is None:
                self._ack(1)
            return False
        assert target.n is not None
        self._probe = target.n
        self._stale_budget = 0
        self._out.append(target.wire)
        self.counters.bytes_retransmit += len(target.wire)
        self.counters.retransmit_seq = target.n
        self._events.append(LineSent(target.n, target.command, True))
        return True

    def resend_ok_absent(self) -> None:
        """No ``ok`` followed ``Resend:`` promptly: stop holding the replay."""
        self._learn_pending = False

    # ------------------------------------------------------------- receiving
    def feed(self, data: bytes) -> None:
        """Bytes received from the firmware."""
        self.counters.bytes_read += len(data)
        if b"\n" not in data:
            self._rxbuf += data
            return
        lines = (self._rxbuf + data).split(b"\n")
        self._rxbuf = lines.pop()
        for raw in lines:
            text = raw.decode("utf-8", "replace").rstrip()
            if text:
                self._on_line(text)

    def _on_line(self, text: str) -> None:
        self._events.append(LineReceived(text))
        swallow = self._swallow_next_ok
        self._swallow_next_ok = False
        line = text.lstrip()
        if line[:2] == "ok" and (len(line) == 2 or line[2] == " "):
            self._on_ok(line, swallow)
            return
        if self._learn_pending:
            # Something other than "ok" followed "Resend:": no bare ok this time.
            self._learn_pending = False
        if line[:6] == "Resend" or line[:3] == "rs ":
            k = parse_resend(line)
            if k is not None:
                self._on_resend(k)
                return
        if line[:6] == "Error:":
            self._on_error(line[6:].strip())
        elif line[:2] == "!!":
            self._on_error(line[2:].strip())
        elif line == "start":
            self._reset_stream(next_n=1)
            self._packing = self._no_spaces = False  # a booting firmware decodes plain text
            self._events.append(FirmwareStarted())
        elif line == "wait":
            self._events.append(FirmwareWaiting())
            if self._sent and not self._out:
                # The firmware's queue is empty although lines are in flight:
                # they, or their oks, were lost.
                self.retransmit()
        elif line[:5] == "echo:" and line[5:].lstrip()[:15] == "Unknown command":
            self._on_unknown(line[5:].strip())
        else:
            head = self._unacked[0].command if self._sent else None
            rule = self._messages.read(line, self._events, head)
            # None: unsolicited; "": a reply; "M114": a reply only to that command
            if rule is not None and (not rule or self._unacked_word() == rule):
                self._reply(line)

    def _unacked_word(self) -> str:
        return self._unacked[0].word if self._sent else ""

    def _reply(self, line: str) -> None:
        """Attach a solicited line to the command the firmware is working on."""
        if self._sent:
            head = self._unacked[0]
            if head.replies is None:
                head.replies = [line]
            else:
                head.replies.append(line)

    def _on_unknown(self, body: str) -> None:
        # 'Unknown command: "G999"'. Several lines in flight can leave the tail of a line
        # torn by the firmware's RX flush, e.g. the checksum digits "12",
        # which Marlin runs as a command: that is line noise, not a failure
        # of the command being executed.
        quoted = unknown_command(body)
        if self._sent and quoted and quoted != self._unacked[0].command:
            self._events.append(FirmwareError(body, ErrorKind.LINE))
        else:
            self._events.append(FirmwareError(body, ErrorKind.COMMAND))
            self._fail_head(body)

    def _on_error(self, message: str) -> None:
        kind = classify_error(message)
        last_line = None
        if kind is ErrorKind.LINE:
            last_line = parse_last_line(message)
            low = message.lower()
            if "checksum mismatch" in low:
                self.counters.checksum_errors += 1
            elif "line number is not" in low:
                self.counters.line_number_errors += 1
            else:
                self.counters.other_line_errors += 1
        self._events.append(FirmwareError(message, kind, last_line))
        if kind is ErrorKind.COMMAND:
            self._fail_head(message)

    def _fail_head(self, message: str) -> None:
        if self._sent:
            head = self._unacked[0]
            if head.error is None:
                head.error = message

    # ------------------------------------------------------------ ok / acks
    def _on_ok(self, line: str, swallow: bool) -> None:
        ok = parse_ok(line)
        if ok.b is not None:
            self._advanced = True
        if ok.temperatures is not None:
            self._events.append(
                TemperatureReport(parse_temperatures(ok.temperatures), solicited=True)
            )
        if self._learn_pending:
            # "Resend:" was followed by "ok": this firmware sends one each time.
            self._learn_pending = False
            self._resend_ok = True
            return
        if swallow:
            return
        if self._advanced and ok.n is None and ok.temperatures is None:
            if ok.b is None:
                return  # the bare "ok" after "Resend:"
            # An out-of-band (unnumbered) command's ok: nothing numbered is done.
            if self._sent and self._unacked[0].n is None:
                self._ack(1)
            return
        if not self._sent:
            return  # nothing in flight: a stray ok (e.g. from before we connected)
        if ok.temperatures is not None:
            self._reply(line)  # M105 answers in its ok line
        count = 1
        if ok.n is not None:
            count = self._count_through(ok.n)
            if count == 0:
                return
        self._ack(count)
        if ok.b is not None:
            self._window.queued(ok.b, self._unacked, self._sent)

    def _count_through(self, n: int) -> int:
        """How many entries ``ok N<n>`` acknowledges (0: a stale ok)."""
        for i, entry in enumerate(islice(self._unacked, 0, self._sent)):
            if entry.n == n or (entry.renumber is not None and entry.renumber == n):
                # Some firmwares answer M110 with the line number it set.
                return i + 1
        head = self._unacked[0].n
        if head is not None and n < head:
            return 0
        return 1

    def _ack(self, count: int) -> None:
        unacked = self._unacked
        window = self._window
        counters = self.counters
        for _ in range(count):
            entry = unacked.popleft()
            self._sent -= 1
            window.acknowledged(len(entry.wire))
            n = entry.n
            if n is not None:
                counters.lines_acknowledged += 1
                if n == self._recover_target:
                    self._recovering = False
                    self._recover_target = -1
                if n == self._resend_line:
                    self._resend_line = -1
                    self._resend_count = 0
                if entry.renumber is not None:
                    self._next_n = entry.renumber + 1
                    self._barrier = False
                self._probe = None
                self._events.append(
                    CommandAcknowledged(
                        n,
                        entry.command,
                        entry.owner,
                        entry.tag,
                        tuple(entry.replies) if entry.replies else (),
                        entry.error,
                    )
                )
        window.grow()

    # ---------------------------------------------------------------- resend
    def _find(self, k: int) -> int | None:
        for i, entry in enumerate(self._unacked):
            if entry.n == k:
                return i
        return None

    def _on_resend(self, k: int) -> None:
        if not self._unacked:
            # Nothing outstanding (a probe, or an M999's request): nothing to replay.
            self._events.append(ResendRequested(k, ignored=True))
            return
        if not self._advanced:
            # Which "ok" belongs to the Resend can only be told by position:
            # until one has been seen, hold the replay so that an ok arriving
            # meanwhile can only be the Resend's.
            if self._resend_ok:
                self._swallow_next_ok = True
            else:
                self._learn_pending = True
        if self._probe is not None and self._sent:
            self._ack_lost_oks(k)
        idx = self._find(k)
        if idx is None:
            if self._unacked and self._unacked[0].renumber is not None:
                idx = 0  # during M110 the firmware's counter is not ours yet
            elif k == self._next_n:
                # The firmware has everything we sent: a late copy was refused.
                self._echo(k)
                return
            else:
                self._fail(f"firmware asked to resend line {k}, which the host no longer holds")
                return
        if idx >= self._sent:
            # Already rewound past it and not yet re-sent: a late echo.
            self._echo(k)
            return
        if self._recovering and k == self._recover_target and self._stale_budget > 0:
            self._stale_budget -= 1
            self._echo(k)
            return
        if k == self._resend_line:
            self._resend_count += 1
        else:
            self._resend_line = k
            self._resend_count = 1
        refused = self._unacked[idx]
        abandon = self._resend_count > self._max_resends
        if abandon and (refused.filler or refused.renumber is not None):
            # even a bare M105 (or the handshake's M110) is refused: the link is broken
            self._fail(
                f"line {k} was refused {self._max_resends} times in a row: "
                f"N{k} {refused.command}"
            )
            return
        self.counters.resends += 1
        # Lines written after the refused one may each produce one more
        # "Resend: k" as the firmware meets them: expect those echoes.
        self._stale_budget = self._sent - idx - 1
        self._recovering = True
        self._recover_target = k
        self._probe = None
        self._rewind(idx)
        if abandon:
            self._abandon(refused)
        if self._packing and self._resend_count >= _PACKED_RESEND_LIMIT:
            self.stop_meatpack(f"line {k} refused {self._resend_count} times while packed")
        self._events.append(ResendRequested(k, ignored=False))

    def _abandon(self, entry: Entry) -> None:
        """Give up on a line the firmware keeps refusing (one it cannot take, not a
        broken link: the lines before it were accepted). An M105 takes its number, so
        the numbering stays whole and other owners' lines after it go on; the line's
        owner gets the failure when that M105 is acknowledged. The owner's own later
        lines become M105s too: the firmware has run none of them (it refuses every
        line after the one it asks for), and a print or script must not go on past a
        gap."""
        assert entry.n is not None
        message = (
            f"the firmware refused line {entry.n} {self._max_resends} times in a row; "
            f"it was not run: {entry.command}"
        )
        self._make_filler(entry)
        entry.error = message
        if entry.owner is not None:
            after = False
            for later in self._unacked:
                if later is entry:
                    after = True
                elif (after and later.owner is entry.owner and later.n is not None
                      and later.renumber is None):
                    self._make_filler(later)
        self._resend_count = 0
        self._events.append(LineAbandoned(entry.n, entry.command, entry.owner, message))

    def _make_filler(self, entry: Entry) -> None:
        assert entry.n is not None
        entry.filler = True
        entry.word = ""
        entry.replies = None
        entry.plain = entry.wire = self._frame(entry.n, "M105", "M105")
        entry.packed = False

    def _echo(self, k: int) -> None:
        self.counters.resend_echoes += 1
        self._events.append(ResendRequested(k, ignored=True))

    def _ack_lost_oks(self, k: int) -> None:
        """A ``Resend: k`` answering retransmit()'s probe: the firmware, which
        was quiet, has executed every line before k, so their oks were lost."""
        count = 0
        if self._advanced:
            # Should an ok still come, its N marks it stale and it is ignored.
            for entry in islice(self._unacked, 0, self._sent):
                if entry.n is not None and entry.n >= k:
                    break
                count += 1
        elif self._unacked[0].n == k - 1 == self._probe:
            count = 1
        if count:
            self._ack(count)

    def _rewind(self, idx: int) -> None:
        unacked = self._unacked
        dropped = 0
        for entry in islice(unacked, idx, self._sent):
            dropped += len(entry.wire)
        if any(e.n is None for e in islice(unacked, idx, None)):
            # Out-of-band lines are never replayed; their fate is unknown.
            kept = [e for i, e in enumerate(unacked) if i < idx or e.n is not None]
            self._unacked = unacked = deque(kept)
        self._sent = idx
        self._window.rewound(idx, dropped)
        self._out.clear()

    def _fail(self, message: str) -> None:
        self._events.append(ProtocolFailure(message))
