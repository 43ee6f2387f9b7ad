"""The timers that watch a ready firmware and poll it.

No timer ticks while nothing is due: the silence watch is a deadline armed when lines go
out and pushed back lazily (the hot path only stores the time of the last answer), the
resend timers exist only while a resend is being worked through, and the port check,
polls and the link-quality summary share one housekeeping timer.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from .config import SerialConfig
from .events import LinkState
from .scheduler import Script
from .shell import LinkShell

if TYPE_CHECKING:
    from .protocol import LinkCounters
    from .session import Session

log = logging.getLogger(__name__)

_RESEND_OK_WAIT = 0.1  # how long a bare ok may lag behind "Resend:", s
_RECOVERY_TIMEOUT = 0.3  # silence after a replay before sending it again, s
_HOUSEKEEPING = 1.0  # port check, polls, summary: one timer, s
_AUTOREPORT_GRACE = 3.0  # auto-reports silent this long are switched on again, s
SUMMARY_INTERVAL = 60.0  # at most one link-quality log line per this many s


class Watch:
    def __init__(self, shell: LinkShell, config: SerialConfig, session: Session) -> None:
        self.shell = shell
        self.config = config
        self.session = session
        self.last_temp_report = 0.0
        self._silence: asyncio.TimerHandle | None = None
        self._probed_at: float | None = None
        self._resend_timer: asyncio.TimerHandle | None = None
        self._housekeeping: asyncio.TimerHandle | None = None
        self._housekeeping_period = _HOUSEKEEPING
        self._temp_poll: Script | None = None
        self._pos_poll: Script | None = None
        self._next_temp_poll = 0.0
        self._next_pos_poll = 0.0
        self._next_summary = 0.0
        self._summarised: tuple[int, ...] = ()
        shell.on_in_flight = self._lines_out

    def reset_polls(self) -> None:
        """The handshake is over: polls and the auto-report watch start from now."""
        now = self.shell.loop.time()
        self.last_temp_report = now
        self._next_temp_poll = self._next_pos_poll = now

    def start(self) -> None:
        now = self.shell.loop.time()
        self._next_summary = now + SUMMARY_INTERVAL
        self._summarised = self._error_counts(self.shell.proto.counters)
        period = _HOUSEKEEPING
        cfg = self.config
        if cfg.temperature_report_interval and not self.session.firmware.has("AUTOREPORT_TEMP"):
            period = min(period, cfg.temperature_report_interval)
        if cfg.position_report_interval and not self.session.firmware.has("AUTOREPORT_POS"):
            period = min(period, cfg.position_report_interval)
        self._housekeeping_period = period
        self._housekeeping = self.shell.loop.call_at(now + period, self._housekeep)

    def stop(self) -> None:
        for handle in (self._silence, self._resend_timer, self._housekeeping):
            if handle is not None:
                handle.cancel()
        self._silence = self._resend_timer = self._housekeeping = None
        self._probed_at = None
        self._temp_poll = self._pos_poll = None

    def _lines_out(self) -> None:
        """Lines went out with nothing in flight: the silence clock starts now."""
        shell = self.shell
        shell.last_response = shell.loop.time()
        if self._silence is None and self.session.state is LinkState.READY:
            self._silence = shell.loop.call_at(
                shell.last_response + self.config.response_timeout, self._check_silence
            )

    def _check_silence(self) -> None:
        self._silence = None
        shell = self.shell
        proto = shell.proto
        if not proto.in_flight or self.session.state is not LinkState.READY:
            self._probed_at = None
            return
        now = shell.loop.time()
        timeout = self.config.response_timeout
        silent = now - shell.last_response
        if self._probed_at is not None and shell.last_response > self._probed_at:
            self._probed_at = None  # it answered after the poke
        if self._probed_at is None:
            due = _RECOVERY_TIMEOUT if proto.replay_stalled else timeout
            if silent >= due:
                # Send the oldest line again: the firmware's line-number check
                # makes this safe whether the line or only its ok was lost.
                self._probed_at = now
                proto.counters.timeouts += 1
                proto.retransmit()
                shell.pump()
                next_check = now + timeout
            else:
                next_check = shell.last_response + due
        elif now - self._probed_at >= timeout:
            self.session.incident(
                "error", f"printer not responding (nothing heard for {silent:.0f} s)")
            return
        else:
            next_check = self._probed_at + timeout
        self._silence = shell.loop.call_at(next_check, self._check_silence)

    def resend(self) -> None:
        """A resend is under way: the short timers (a bare ok after Resend; a replay
        lost again) run until it is through. The first fires a full 0.1 s after this
        request: an ok arriving before then may be the Resend's own."""
        if self._resend_timer is not None:
            self._resend_timer.cancel()
        self._resend_timer = self.shell.loop.call_later(_RESEND_OK_WAIT, self._resend_tick)

    def _resend_tick(self) -> None:
        self._resend_timer = None
        shell = self.shell
        proto = shell.proto
        if proto.learning_resend_ok:
            proto.resend_ok_absent()
            shell.pump()
        if not proto.recovering or self.session.state is not LinkState.READY:
            return
        now = shell.loop.time()
        if self._probed_at is not None and shell.last_response > self._probed_at:
            self._probed_at = None  # answered since the last poke
        if (
            proto.replay_stalled
            and now - shell.last_response >= _RECOVERY_TIMEOUT
            and self._probed_at is None
        ):
            # The replayed line is the oldest in flight and nothing came back: it
            # was lost too (or its request was taken for an echo). Send it again.
            self._probed_at = now
            proto.counters.timeouts += 1
            proto.retransmit()
            shell.pump()
        self._resend_timer = shell.loop.call_later(_RESEND_OK_WAIT, self._resend_tick)

    def _housekeep(self) -> None:
        shell = self.shell
        now = shell.loop.time()
        self._housekeeping = shell.loop.call_at(now + self._housekeeping_period, self._housekeep)
        port = shell.port
        if port is None:
            return
        gone = port.still_there()
        if gone is not None:
            self.session.lost(gone)
            return
        if self.session.state is LinkState.READY:
            self._poll(now)
        if now >= self._next_summary:
            self._summary(now)

    def _poll(self, now: float) -> None:
        """M105/M114 polling where the firmware cannot auto-report; and auto-reports
        turned on again where they went quiet (a setup lost in a handshake whose
        answers got out of step, or a firmware that forgot it)."""
        cfg = self.config
        shell = self.shell
        interval = cfg.temperature_report_interval
        auto_temp = self.session.firmware.has("AUTOREPORT_TEMP")
        if (
            interval
            and auto_temp
            and now - self.last_temp_report > max(_AUTOREPORT_GRACE, 3 * interval)
            and (self._temp_poll is None or self._temp_poll.acked)
        ):
            log.info("no temperature auto-report for %.0f s; enabling it again",
                     now - self.last_temp_report)
            self.last_temp_report = now
            self._temp_poll = shell.fire(f"M155 S{max(1, round(interval))}")
        if (
            interval
            and not auto_temp
            and now >= self._next_temp_poll - 0.05
            and (self._temp_poll is None or self._temp_poll.acked)
        ):
            self._next_temp_poll = now + interval
            self._temp_poll = shell.fire("M105")
        interval = cfg.position_report_interval
        if (
            interval
            and not self.session.firmware.has("AUTOREPORT_POS")
            and now >= self._next_pos_poll - 0.05
            and shell.sched.idle
            and not shell.proto.pending
        ):
            self._next_pos_poll = now + interval
            self._pos_poll = shell.fire("M114")

    @staticmethod
    def _error_counts(c: LinkCounters) -> tuple[int, ...]:
        return (c.resends, c.checksum_errors, c.line_number_errors, c.other_line_errors,
                c.timeouts)

    def _summary(self, now: float) -> None:
        """One log line a minute at most, and only if the link had trouble."""
        self._next_summary = now + SUMMARY_INTERVAL
        c = self.shell.proto.counters
        counts = self._error_counts(c)
        if counts == self._summarised:
            return
        delta = [a - b for a, b in zip(counts, self._summarised, strict=True)]
        self._summarised = counts
        log.warning(
            "serial link in the last minute: %d resends, %d checksum errors, %d line "
            "number errors, %d other line errors, %d timeouts (%d bytes sent again in all)",
            *delta, c.bytes_retransmit,
        )
