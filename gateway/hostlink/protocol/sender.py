"""The sending half of the protocol engine: numbering and framing lines, MeatPack
packing, flow control (``window.py``), and writing lines again (replays, retransmits).
``engine.py`` adds the receiving half: oks, resend requests, errors and messages."""

from __future__ import annotations

import re
from collections import deque
from typing import Literal

from . import meatpack
from .counters import LinkCounters
from .events import Event, LineSent, MeatPackStopped
from .framing import checksum, command_word
from .messages import MessageReader
from .window import Window

AdvancedOk = Literal["auto", "on", "off"]

_M110_ARG = re.compile(r"N\s*(-?\d+)")
# Commands with no "ok" of their own when sent out of band.
_NO_OK = frozenset({"M112"})
# A line number no firmware can be expecting next: a line sent with it is refused with
# an error naming the firmware's last line number, and is never run.
PROBE_LINE = 2_147_483_646


class LineTooLong(ValueError):
    """A command whose framed line is longer than the firmware's line buffer takes; it
    was not sent (the firmware would cut it and refuse it every time)."""

    def __init__(self, command: str, size: int, limit: int) -> None:
        super().__init__(
            f"G-code line too long for the firmware: {size} bytes with its line number "
            f"and checksum, the firmware takes at most {limit} ([serial] max_command_size "
            f"{limit + 1}): {command[:40]}{'...' if len(command) > 40 else ''}"
        )
        self.command = command


class Entry:
    """One submitted line until its ``ok``."""

    __slots__ = (
        "command", "error", "filler", "n", "owner", "packed", "plain", "renumber", "replies",
        "tag", "wire", "word",
    )

    def __init__(self, n: int | None, command: str, plain: bytes, owner: object, tag: int) -> None:
        self.n = n
        self.command = command
        self.plain = plain  # the framed line as the firmware reads it
        self.wire = plain  # the bytes last written (packed or plain)
        self.packed = False
        self.owner = owner
        self.tag = tag
        self.replies: list[str] | None = None
        self.error: str | None = None
        self.renumber: int | None = None  # M110: the numbering after it
        self.word = ""  # "M114" etc., filled only where replies are routed by command
        self.filler = False  # an M105 sent in place of a line the firmware kept refusing


class LineSender:
    """Line numbering, checksums, packing and flow control."""


    def __init__(
        self,
        *,
        advanced_ok: AdvancedOk = "auto",
        rx_buffer_size: int = 128,
        max_in_flight: int = 16,
        max_resends_per_line: int = 10,
        max_command_size: int = 96,
    ) -> None:
        self._mode = advanced_ok
        self._max_resends = max_resends_per_line
        # a framed line (newline included) longer than this is cut by the firmware
        self._max_line = max_command_size
        self._events: list[Event] = []
        self._rxbuf = b""
        self._out: list[bytes] = []
        self.counters = LinkCounters()
        self._messages = MessageReader()
        self._window = Window(rx_buffer_size, max_in_flight)
        # What the firmware told us about itself.
        self._advanced = False  # oks carry P/B (ADVANCED_OK)
        # Does a bare "ok" follow "Resend:"? Marlin 2.1 yes, 2.0 no. Only ever
        # learnt from seeing one: its absence may just be a lost line.
        self._resend_ok = False
        self.last_submitted = 0  # the number of the last line submit() accepted
        self._packing = False  # lines are written MeatPack-packed
        self._no_spaces = False
        self._reset_stream(next_n=1)

    # ------------------------------------------------------------------ state
    def _reset_stream(self, next_n: int) -> None:
        self._next_n = next_n
        self._unacked: deque[Entry] = deque()
        self._sent = 0  # the first _sent entries of _unacked are on the wire
        self._window.reset()
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
        self._messages.reset()

    def reset(self, next_n: int = 1) -> None:
        """Forget everything in flight (new connection, firmware halted)."""
        self._reset_stream(next_n)
        self._rxbuf = b""
        self._packing = self._no_spaces = False

    @property
    def advanced_ok_seen(self) -> bool:
        """True once ``ok`` lines with ``P``/``B`` fields (ADVANCED_OK) were seen."""
        return self._advanced

    @property
    def advanced_ok_in_use(self) -> bool:
        """Several lines are kept in flight, paced by ADVANCED_OK's fields."""
        return self._mode == "on" or (self._mode == "auto" and self._advanced)

    @property
    def meatpack(self) -> bool:
        """Lines are written MeatPack-packed."""
        return self._packing

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
    def submit(self, command: str, owner: object = None, tag: int = 0) -> bool:
        """Number and queue ``command`` (cleaned G-code, see ``clean_command``)
        if flow control allows it now; False means offer it again later.
        ``owner``/``tag`` come back in its :class:`CommandAcknowledged`. Raises
        LineTooLong (and takes nothing) for a line the firmware's buffer cannot hold."""
        if self._sent < len(self._unacked):
            self._fill()
            if self._sent < len(self._unacked):
                return False
        if self._barrier or self._learn_pending:
            return False
        n = self._next_n
        word = ""
        c0 = command[0]
        if c0 == "M" or c0 == "m" or self._no_spaces:
            word = command_word(command)
        plain = self._frame(n, command, word)
        if len(plain) > self._max_line:
            raise LineTooLong(command, len(plain) - 1, self._max_line - 1)
        wire = meatpack.pack(plain, self._no_spaces) if self._packing else plain
        if self._sent and not self._window.allows(self._sent, len(wire), self.advanced_ok_in_use):
            return False
        entry = Entry(n, command, plain, owner, tag)
        entry.wire = wire
        entry.packed = self._packing
        if word == "M110":
            entry.word = word
            m = _M110_ARG.search(command, 4)
            entry.renumber = int(m.group(1)) if m else n
            # Some firmwares change the counter only when M110 runs.
            self._barrier = True
        elif word == "M114" or word == "M27":
            entry.word = word
        self._unacked.append(entry)
        self.last_submitted = n
        if entry.renumber is None:
            self._next_n = n + 1
        self.counters.lines_sent += 1
        self._out.append(wire)
        self._sent += 1
        self._window.sent(len(wire))
        self._events.append(LineSent(n, command, False))
        return True

    def _frame(self, n: int, command: str, word: str) -> bytes:
        """The line as the firmware reads it: ``N<n> <command>*<checksum>`` + newline."""
        if self._no_spaces:
            body = f"N{n}{meatpack.squeeze(command, word)}".encode()
        else:
            body = f"N{n} {command}".encode()
        return b"%s*%d\n" % (body, checksum(body))

    def _transmit_again(self, entry: Entry) -> None:
        if entry.packed != self._packing:
            entry.wire = (
                meatpack.pack(entry.plain, self._no_spaces) if self._packing else entry.plain
            )
            entry.packed = self._packing
        self._out.append(entry.wire)
        self._sent += 1
        self._window.sent(len(entry.wire))
        self.counters.bytes_retransmit += len(entry.wire)
        if entry.n is not None:
            self.counters.retransmit_seq = entry.n
        self._events.append(LineSent(entry.n, entry.command, True))

    def _fill(self) -> None:
        """Move lines waiting for (re)transmission onto the wire, window permitting."""
        unacked = self._unacked
        window = self._window
        several = self.advanced_ok_in_use
        while self._sent < len(unacked) and not self._learn_pending:
            entry = unacked[self._sent]
            if self._sent and not window.allows(self._sent, len(entry.wire), several):
                break
            self._transmit_again(entry)

    def send_unnumbered(self, command: str) -> bytes:
        """Wire bytes for an out-of-band command (M108/M112/M410/M876 with
        EMERGENCY_PARSER); write them at once, ahead of anything queued."""
        wire = command.encode() + b"\n"
        self._events.append(LineSent(None, command, False))
        if not self._advanced and command_word(command) not in _NO_OK:
            # Its plain "ok" will arrive in stream order: give it a slot so it
            # does not acknowledge a numbered line. (With ADVANCED_OK the ok has
            # no N but P/B fields and is recognised as such.)
            entry = Entry(None, command, wire, None, 0)
            self._unacked.insert(self._sent, entry)
            self._sent += 1
        if self._packing:
            # The firmware's emergency parser reads the raw bytes, before MeatPack
            # decoding: the command goes out unpacked, packing paused around it. The
            # newline ends whatever the parser saw last, so it starts afresh.
            return meatpack.DISABLE + b"\n" + wire + meatpack.ENABLE
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

    def start_meatpack(self, no_spaces: bool = True) -> None:
        """Pack every line written from now on (the firmware reported MEATPACK)."""
        self._out.append(meatpack.ENABLE + (meatpack.NO_SPACES_ON if no_spaces else b""))
        self._packing = True
        self._no_spaces = no_spaces

    def stop_meatpack(self, reason: str = "") -> None:
        """Plain text from now on; lines already packed are re-sent plain if needed."""
        if self._packing or self._no_spaces:
            self._out.append(meatpack.DISABLE + meatpack.NO_SPACES_OFF)
        was = self._packing
        self._packing = self._no_spaces = False
        if was and reason:
            self._events.append(MeatPackStopped(reason))

    def probe_bytes(self) -> bytes:
        """A line the firmware refuses with an error naming its last line number
        (``FirmwareError.last_line``); it never runs. The newline before it ends
        whatever partial line the firmware may hold."""
        body = b"N%d M105" % PROBE_LINE
        return b"\n%s*%d\n" % (body, checksum(body))
