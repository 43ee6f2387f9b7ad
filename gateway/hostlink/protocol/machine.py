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
"""

from __future__ import annotations

import re
from collections import deque
from itertools import islice
from typing import Literal

from .events import (
    ActionCommand,
    Busy,
    CapabilityReport,
    CommandAcknowledged,
    EchoMessage,
    ErrorKind,
    Event,
    FirmwareError,
    FirmwareInfo,
    FirmwareStarted,
    FirmwareWaiting,
    LineReceived,
    LineSent,
    PositionReport,
    PromptClosed,
    PromptShown,
    ProtocolFailure,
    ResendRequested,
    SdFile,
    SdFileList,
    TemperatureReport,
)
from .framing import command_word, frame
from .parsing import (
    classify_error,
    is_position_line,
    is_temperature_line,
    parse_build_area,
    parse_capability,
    parse_key_fields,
    parse_ok,
    parse_position,
    parse_resend,
    parse_sd_file,
    parse_sd_status,
    parse_soft_endstops,
    parse_temperatures,
)

Pipelining = Literal["auto", "on", "off"]

_M110_ARG = re.compile(r"N\s*(-?\d+)")
# Commands with no "ok" of their own when sent out of band.
_NO_OK = frozenset({"M112"})


class _Entry:
    """One submitted line until its ``ok``."""

    __slots__ = ("command", "error", "n", "owner", "renumber", "replies", "tag", "wire", "word")

    def __init__(self, n: int | None, command: str, wire: bytes, owner: object, tag: int) -> None:
        self.n = n
        self.command = command
        self.wire = wire
        self.owner = owner
        self.tag = tag
        self.replies: list[str] | None = None
        self.error: str | None = None
        self.renumber: int | None = None  # M110: the numbering after it
        self.word = ""  # "M114" etc., filled only where replies are routed by command


class MarlinProtocol:
    """Line numbering, checksums, flow control, resends and line parsing."""

    def __init__(
        self,
        *,
        pipelining: Pipelining = "auto",
        rx_buffer_size: int = 128,
        max_in_flight: int = 16,
        max_resends_per_line: int = 10,
    ) -> None:
        self._mode = pipelining
        self._rx_size = rx_buffer_size
        self._max_in_flight = max_in_flight
        self._max_resends = max_resends_per_line
        self._events: list[Event] = []
        self._rxbuf = b""
        self._out: list[bytes] = []
        # What the firmware told us about itself.
        self._advanced = False  # oks carry P/B (ADVANCED_OK)
        # Does a bare "ok" follow "Resend:"? Marlin 2.1 yes, 2.0 no. Only ever
        # learnt from seeing one: its absence may just be a lost line.
        self._resend_ok = False
        # Largest B seen: BUFSIZE - 1 once an ok came with the queue empty.
        # Underestimating only makes the RX estimate more cautious.
        self._max_b = 0
        self._reset_stream(next_n=1)

    # ------------------------------------------------------------------ state
    def _reset_stream(self, next_n: int) -> None:
        self._next_n = next_n
        self._unacked: deque[_Entry] = deque()
        self._sent = 0  # the first _sent entries of _unacked are on the wire
        self._bytes_in_flight = 0
        self._ring_count = 0  # of those, how many the firmware has queued (not in RX)
        self._ring_bytes = 0
        # Lines allowed in flight; drops after a resend, grows by one per ok.
        self._cwnd = self._max_in_flight
        self._barrier = False  # an M110 is in flight: nothing may follow it yet
        self._learn_pending = False
        self._swallow_next_ok = False
        self._recovering = False
        self._recover_target = -1
        self._stale_budget = 0
        self._resend_line = -1
        self._resend_count = 0
        self._probe: int | None = None
        self._out.clear()
        self._file_list: list[SdFile] | None = None
        self._prompt: tuple[str, list[str]] | None = None

    def reset(self, next_n: int = 1) -> None:
        """Forget everything in flight (new connection, firmware halted)."""
        self._reset_stream(next_n)
        self._rxbuf = b""

    @property
    def advanced_ok(self) -> bool:
        """True once ``ok`` lines with ``P``/``B`` fields were seen."""
        return self._advanced

    @property
    def pipelining(self) -> bool:
        return self._mode == "on" or (self._mode == "auto" and self._advanced)

    @property
    def in_flight(self) -> int:
        """Lines written and not yet acknowledged."""
        return self._sent

    @property
    def pending(self) -> int:
        """Lines submitted and not yet acknowledged (written or waiting for replay)."""
        return len(self._unacked)

    @property
    def recovering(self) -> bool:
        """A resend is being worked through."""
        return self._recovering

    @property
    def replay_stalled(self) -> bool:
        """The replayed line is the oldest in flight: no earlier line is still
        executing, so a long silence now means it was lost again."""
        return self._recovering and self._sent > 0 and self._unacked[0].n == self._recover_target

    @property
    def learning_resend_ok(self) -> bool:
        """Waiting to see whether ``Resend:`` is followed by a bare ``ok``;
        call :meth:`resend_ok_absent` if no line arrives soon."""
        return self._learn_pending

    @property
    def next_line_number(self) -> int:
        return self._next_n

    def events(self) -> list[Event]:
        """The events produced since the last call, oldest first."""
        ev = self._events
        self._events = []
        return ev

    # --------------------------------------------------------------- sending
    def _line_limit(self) -> int:
        if self._mode == "on" or (self._mode == "auto" and self._advanced):
            return min(self._cwnd, self._max_in_flight)
        return 1

    def _window_allows(self, nbytes: int) -> bool:
        sent = self._sent
        if sent == 0:
            return True
        if sent >= self._line_limit():
            return False
        # Bytes still in the firmware's RX buffer: in flight minus those known
        # (from the last B) to have moved into its command queue.
        # Like AVR's ring buffer, Marlin's RX buffer keeps one byte free.
        return self._bytes_in_flight - self._ring_bytes + nbytes < self._rx_size

    def submit(self, command: str, owner: object = None, tag: int = 0) -> bool:
        """Number and queue ``command`` (cleaned G-code, see ``clean_command``)
        if flow control allows it now; False means offer it again later.
        ``owner``/``tag`` come back in its :class:`CommandAcknowledged`."""
        if self._sent < len(self._unacked):
            self._fill()
            if self._sent < len(self._unacked):
                return False
        if self._barrier or self._learn_pending:
            return False
        n = self._next_n
        # Upper bound of the framed size: "N" digits " " command "*" 3 digits "\n".
        size = len(command) if command.isascii() else len(command.encode())
        if self._sent and not self._window_allows(size + len(str(n)) + 7):
            return False
        wire = frame(n, command)
        entry = _Entry(n, command, wire, owner, tag)
        c0 = command[0]
        if c0 == "M" or c0 == "m":
            word = command_word(command)
            entry.word = word
            if word == "M110":
                m = _M110_ARG.search(command, 4)
                entry.renumber = int(m.group(1)) if m else n
                # Some firmwares change the counter only when M110 runs.
                self._barrier = True
        self._unacked.append(entry)
        if entry.renumber is None:
            self._next_n = n + 1
        self._transmit(entry, resend=False)
        return True

    def _transmit(self, entry: _Entry, resend: bool) -> None:
        self._out.append(entry.wire)
        self._sent += 1
        self._bytes_in_flight += len(entry.wire)
        self._events.append(LineSent(entry.n, entry.command, resend))

    def _fill(self) -> None:
        """Move lines waiting for (re)transmission onto the wire, window permitting."""
        unacked = self._unacked
        while self._sent < len(unacked) and not self._learn_pending:
            entry = unacked[self._sent]
            if self._sent and not self._window_allows(len(entry.wire)):
                break
            self._transmit(entry, resend=True)

    def send_unnumbered(self, command: str) -> bytes:
        """Wire bytes for an out-of-band command (M108/M112/M410/M876 with
        EMERGENCY_PARSER); write them at once, ahead of anything queued."""
        wire = command.encode() + b"\n"
        self._events.append(LineSent(None, command, False))
        if not self._advanced and command_word(command) not in _NO_OK:
            # Its plain "ok" will arrive in stream order: give it a slot so it
            # does not acknowledge a numbered line. (With ADVANCED_OK the ok has
            # no N but P/B fields and is recognised as such.)
            entry = _Entry(None, command, wire, None, 0)
            self._unacked.insert(self._sent, entry)
            self._sent += 1
        return wire

    def data_to_send(self) -> bytes:
        """Bytes to write now (new lines and resends), possibly empty."""
        if self._sent < len(self._unacked):
            self._fill()
        if not self._out:
            return b""
        data = b"".join(self._out)
        self._out.clear()
        return data

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
        self._events.append(LineSent(target.n, target.command, True))
        return True

    def resend_ok_absent(self) -> None:
        """No ``ok`` followed ``Resend:`` promptly: stop holding the replay."""
        self._learn_pending = False

    # ------------------------------------------------------------- receiving
    def feed(self, data: bytes) -> None:
        """Bytes received from the firmware."""
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
        elif line[:5] == "echo:":
            self._on_echo(line[5:])
        elif line[:5] == "busy:":
            self._events.append(Busy(line[5:].strip()))
        elif line[:9] == "//action:":
            self._on_action(line[9:].strip())
        elif line == "start":
            self._reset_stream(next_n=1)
            self._events.append(FirmwareStarted())
        elif line == "wait":
            self._events.append(FirmwareWaiting())
            if self._sent and not self._out:
                # The firmware's queue is empty although lines are in flight:
                # they, or their oks, were lost.
                self.retransmit()
        else:
            self._on_other(line)

    def _on_other(self, line: str) -> None:
        if self._file_list is not None:
            if line == "End file list":
                self._events.append(SdFileList(tuple(self._file_list)))
                self._file_list = None
            else:
                self._file_list.append(parse_sd_file(line))
            self._reply(line)
        elif line[:4] == "Cap:":
            cap = parse_capability(line)
            if cap is not None:
                self._events.append(CapabilityReport(cap[0], cap[1]))
            self._reply(line)
        elif line[:5] == "area:":
            area = parse_build_area(line)
            if area is not None:
                self._events.append(area)
            self._reply(line)
        elif line[:14] == "FIRMWARE_NAME:":
            self._events.append(FirmwareInfo(parse_key_fields(line)))
            self._reply(line)
        elif line == "Begin file list":
            self._file_list = []
            self._reply(line)
        elif is_temperature_line(line):
            # Auto-reports and M109/M190 progress: never a command's reply.
            self._events.append(TemperatureReport(parse_temperatures(line), solicited=False))
        elif is_position_line(line):
            axes, counts = parse_position(line)
            self._events.append(PositionReport(axes, counts))
            self._reply_if(line, "M114")
        elif line[:3] == "SD " or line[:4] == "Not ":
            status = parse_sd_status(line)
            if status is not None:
                self._events.append(status)
                self._reply_if(line, "M27")
            else:
                self._reply(line)
        else:
            self._reply(line)

    def _reply(self, line: str) -> None:
        """Attach a solicited line to the command the firmware is working on."""
        if self._sent:
            head = self._unacked[0]
            if head.replies is None:
                head.replies = [line]
            else:
                head.replies.append(line)

    def _reply_if(self, line: str, word: str) -> None:
        if self._sent and self._unacked[0].word == word:
            self._reply(line)

    def _on_echo(self, rest: str) -> None:
        body = rest.strip()
        if body[:5] == "busy:":
            self._events.append(Busy(body[5:].strip()))
        elif body[:15] == "Unknown command":
            # 'Unknown command: "G999"'. Pipelining can leave the tail of a line
            # torn by the firmware's RX flush, e.g. the checksum digits "12",
            # which Marlin runs as a command: that is line noise, not a failure
            # of the command being executed.
            quoted = body.partition('"')[2].rpartition('"')[0]
            if self._sent and quoted and quoted != self._unacked[0].command:
                self._events.append(FirmwareError(body, ErrorKind.LINE))
            else:
                self._events.append(FirmwareError(body, ErrorKind.COMMAND))
                self._fail_head(body)
        elif "Min:" in body and "Max:" in body and (
                limits := parse_soft_endstops(body)) is not None:
            # M211's report: state for the host, the reply of an M211 typed in a console
            self._events.append(limits)
            self._reply(body)
        else:
            self._events.append(EchoMessage(rest))

    def _on_error(self, message: str) -> None:
        kind = classify_error(message)
        self._events.append(FirmwareError(message, kind))
        if kind is ErrorKind.COMMAND:
            self._fail_head(message)

    def _fail_head(self, message: str) -> None:
        if self._sent:
            head = self._unacked[0]
            if head.error is None:
                head.error = message

    def _on_action(self, body: str) -> None:
        name, _, argument = body.partition(" ")
        argument = argument.strip()
        self._events.append(ActionCommand(name, argument))
        if name == "prompt_begin":
            self._prompt = (argument, [])
        elif name in ("prompt_choice", "prompt_button"):
            if self._prompt is not None:
                self._prompt[1].append(argument)
        elif name == "prompt_show":
            if self._prompt is not None:
                self._events.append(PromptShown(self._prompt[0], tuple(self._prompt[1])))
        elif name == "prompt_end":
            self._prompt = None
            self._events.append(PromptClosed())

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
            if ok.b > self._max_b:
                self._max_b = ok.b
            self._set_ring(self._max_b - ok.b)

    def _count_through(self, n: int) -> int:
        """How many entries ``ok N<n>`` acknowledges (0: a stale ok)."""
        for i, entry in enumerate(islice(self._unacked, 0, self._sent)):
            if entry.n == n:
                return i + 1
        head = self._unacked[0].n
        if head is not None and n < head:
            return 0
        return 1

    def _set_ring(self, count: int) -> None:
        count = min(count, self._sent)
        self._ring_count = count
        total = 0
        for entry in islice(self._unacked, 0, count):
            total += len(entry.wire)
        self._ring_bytes = total

    def _ack(self, count: int) -> None:
        unacked = self._unacked
        for _ in range(count):
            entry = unacked.popleft()
            self._sent -= 1
            nbytes = len(entry.wire)
            self._bytes_in_flight -= nbytes
            if self._ring_count:
                self._ring_count -= 1
                self._ring_bytes -= nbytes
            n = entry.n
            if n is not None:
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
        if self._cwnd < self._max_in_flight:
            self._cwnd += 1

    # ---------------------------------------------------------------- resend
    def _find(self, k: int) -> int | None:
        for i, entry in enumerate(self._unacked):
            if entry.n == k:
                return i
        return None

    def _on_resend(self, k: int) -> None:
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
                self._events.append(ResendRequested(k, ignored=True))
                return
            else:
                self._fail(f"firmware asked to resend line {k}, which the host no longer holds")
                return
        if idx >= self._sent:
            # Already rewound past it and not yet re-sent: a late echo.
            self._events.append(ResendRequested(k, ignored=True))
            return
        if self._recovering and k == self._recover_target and self._stale_budget > 0:
            self._stale_budget -= 1
            self._events.append(ResendRequested(k, ignored=True))
            return
        if k == self._resend_line:
            self._resend_count += 1
        else:
            self._resend_line = k
            self._resend_count = 1
        if self._resend_count > self._max_resends:
            self._fail(
                f"line {k} was refused {self._max_resends} times in a row: "
                f"N{k} {self._unacked[idx].command}"
            )
            return
        # Lines written after the refused one may each produce one more
        # "Resend: k" as the firmware meets them: expect those echoes.
        self._stale_budget = self._sent - idx - 1
        self._recovering = True
        self._recover_target = k
        self._probe = None
        self._rewind(idx)
        self._events.append(ResendRequested(k, ignored=False))

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
        for entry in islice(unacked, idx, self._sent):
            self._bytes_in_flight -= len(entry.wire)
        if any(e.n is None for e in islice(unacked, idx, None)):
            # Out-of-band lines are never replayed; their fate is unknown.
            kept = [e for i, e in enumerate(unacked) if i < idx or e.n is not None]
            self._unacked = unacked = deque(kept)
        self._sent = idx
        # Everything before the requested line was accepted, so it is queued
        # in the firmware and not in its (now flushed) RX buffer.
        self._ring_count = idx
        self._ring_bytes = self._bytes_in_flight
        self._cwnd = idx + 1
        self._out.clear()

    def _fail(self, message: str) -> None:
        self._events.append(ProtocolFailure(message))
