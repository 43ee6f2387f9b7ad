"""The connection's life cycle: open, handshake, ready, and recovery from resets, halts,
silences and unplugging; the timers that watch the firmware and poll it.

No timer ticks while nothing is due: the silence watch is a deadline armed when lines go
out and pushed back lazily (the hot path only stores the time of the last answer), the
resend timers exist only while a resend is being worked through, and the port check,
polls and the link-quality summary share one housekeeping timer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from .config import SerialConfig
from .errors import GCodeError, LinkError, LinkNotReady
from .events import LinkState, StateChanged
from .firmware import FirmwareDescription
from .protocol import (
    Busy,
    CapabilityReport,
    ErrorKind,
    Event,
    FirmwareError,
    FirmwareInfo,
    FirmwareStarted,
    FirmwareWaiting,
    LineReceived,
    MeatPackState,
    MeatPackStopped,
    ProtocolFailure,
    ResendRequested,
    TemperatureReport,
    meatpack,
)
from .scheduler import Script
from .shell import LinkShell

if TYPE_CHECKING:
    from .protocol import LinkCounters

log = logging.getLogger(__name__)

_RESEND_OK_WAIT = 0.1  # how long a bare ok may lag behind "Resend:", s
_RECOVERY_TIMEOUT = 0.3  # silence after a replay before sending it again, s
_M110_RETRY = 1.0  # a booting board may swallow the first M110s, s
_BOOT_WAIT = 1.0  # how long a board that resets on open may take to say "start", s
_HOUSEKEEPING = 1.0  # port check, polls, summary: one timer, s
_AUTOREPORT_GRACE = 3.0  # auto-reports silent this long are switched on again, s
_M999_QUIET = 0.3  # silence that ends the firmware's answers to M999 or the probe, s
_MEATPACK_WAIT = 1.0  # for the firmware to confirm MeatPack, s
SUMMARY_INTERVAL = 60.0  # at most one link-quality log line per this many s

# Incident kinds, reported by callbacks to the supervisor.
RESET, HALT, ERROR, LOST, REOPEN = "reset", "halt", "error", "lost", "reopen"


class Session:
    """Supervises one HostLink's connection."""

    def __init__(self, shell: LinkShell, config: SerialConfig) -> None:
        self.shell = shell
        self.config = config
        self.firmware = FirmwareDescription()
        self.state = LinkState.DISCONNECTED
        self.state_message = "not started"
        self.state_waiters: list[tuple[frozenset[LinkState], asyncio.Future[None]]] = []
        self.incidents: asyncio.Queue[tuple[str, str]] | None = None
        # Set by the owner before a connection: learn the firmware's last line number
        # (and reset a MeatPack decoder left on) before the handshake numbers anything.
        self.probe_on_connect = False
        self.reset_meatpack_on_connect = False
        self.last_line: int | None = None  # the probe's answer
        self.started_since_open = False  # the firmware said "start" after the port opened
        self.expect_boot_banner = True  # False for the virtual printer (no reset on open)
        self._m999_on_open = False
        self._silence: asyncio.TimerHandle | None = None
        self._probed_at: float | None = None
        self._resend_timer: asyncio.TimerHandle | None = None
        self._housekeeping: asyncio.TimerHandle | None = None
        self._housekeeping_period = _HOUSEKEEPING
        self._temp_poll: Script | None = None
        self._pos_poll: Script | None = None
        self._next_temp_poll = 0.0
        self._next_pos_poll = 0.0
        self._last_temp_report = 0.0
        self._next_summary = 0.0
        self._summarised: tuple[int, ...] = ()
        shell.on_in_flight = self._lines_out

    # ------------------------------------------------------------------ state
    def set_state(self, state: LinkState, message: str) -> None:
        if state is self.state and message == self.state_message:
            return
        self.state = state
        self.state_message = message
        log.info("host link %s%s", state.value, f": {message}" if message else "")
        self.shell.notify(StateChanged(state, message))
        for wanted, future in list(self.state_waiters):
            if state in wanted and not future.done():
                future.set_result(None)

    def incident(self, kind: str, message: str) -> None:
        """Something ended the current session: fail everything pending with the
        message, move to the matching state now (never ready after a halt), and let
        the supervisor recover."""
        if kind == HALT and self.state is LinkState.SHUTDOWN:
            return  # "Printer halted. kill() called!" after the thermal error
        exc: LinkError = GCodeError(message) if kind == HALT else LinkNotReady(message)
        self.shell.sched.drop_all(exc)
        self._temp_poll = self._pos_poll = None
        self._stop_watch()
        if kind != RESET:
            self.shell.proto.reset()
        state = {
            HALT: LinkState.SHUTDOWN,
            RESET: LinkState.CONNECTING,
            ERROR: LinkState.ERROR,
            LOST: LinkState.DISCONNECTED,
            REOPEN: LinkState.CONNECTING,
        }[kind]
        self.set_state(state, message)
        if self.incidents is not None:
            self.incidents.put_nowait((kind, message))

    def lost(self, message: str) -> None:
        self.shell.close()
        self.incident(LOST, message)

    def restart_by_reopening(self) -> None:
        """FIRMWARE_RESTART where the port has no DTR line: close, reopen, M999."""
        self._m999_on_open = True
        self.shell.close()
        self.incident(REOPEN, "restarting the firmware: reopening the port")

    # ------------------------------------------------------------- events
    def on_event(self, event: Event) -> bool:
        """A rare event from the engine; True if it shows the firmware is responding."""
        if isinstance(event, TemperatureReport):
            self._last_temp_report = self.shell.loop.time()
            return False
        if isinstance(event, ResendRequested):
            if not event.ignored:
                self._resend_watch()
            return True
        if isinstance(event, Busy | FirmwareWaiting):
            return True
        if isinstance(event, FirmwareError):
            if event.kind is ErrorKind.HALT:
                log.warning("firmware halted: %s", event.message)
                self.incident(HALT, event.message)
            return True
        if isinstance(event, FirmwareStarted):
            self.started_since_open = True
            self.incident(RESET, "firmware restarted")
        elif isinstance(event, ProtocolFailure):
            self.incident(ERROR, event.message)
        elif isinstance(event, FirmwareInfo):
            self.firmware.fields = dict(event.fields)
        elif isinstance(event, CapabilityReport):
            self.firmware.capabilities[event.name] = event.enabled
        elif isinstance(event, MeatPackState):
            self.firmware.meatpack = event.active
        elif isinstance(event, MeatPackStopped):
            self.firmware.meatpack = False
            log.warning("MeatPack switched off, plain text from now on: %s", event.reason)
        return False

    # -------------------------------------------------------- supervision
    async def supervise(self) -> None:
        assert self.incidents is not None
        interval = self.config.reconnect_interval
        shell = self.shell
        while True:
            if shell.port is None:
                problem = shell.open()
                if problem is not None:
                    self.set_state(LinkState.DISCONNECTED, problem)
                    await asyncio.sleep(interval)
                    continue
                self.started_since_open = False
            while not self.incidents.empty():
                self.incidents.get_nowait()  # about the session before this one
            kind = await self._session()
            if kind == HALT:
                # Only a firmware reset (or unplugging, or reopening) ends a halt.
                while kind not in (RESET, LOST, REOPEN):
                    kind, _ = await self.incidents.get()
            if kind == ERROR:
                await asyncio.sleep(interval)
            elif kind == LOST:
                await asyncio.sleep(min(interval, 0.2))

    async def _session(self) -> str:
        """Handshake, then stay ready until an incident; returns its kind."""
        assert self.incidents is not None
        if self.state is not LinkState.CONNECTING:
            self.set_state(LinkState.CONNECTING, f"connecting to {self.shell.path}")
        handshake = asyncio.create_task(self._handshake())
        incident = asyncio.create_task(self.incidents.get())
        try:
            await asyncio.wait({handshake, incident}, return_when=asyncio.FIRST_COMPLETED)
            if incident.done():
                return incident.result()[0]
            try:
                handshake.result()
            except (LinkError, TimeoutError) as exc:
                message = str(exc) or "no answer from the firmware"
                self.incident(ERROR, f"handshake failed: {message}")
                return ERROR
            self._start_watch()
            self.set_state(LinkState.READY, "")
            return (await incident)[0]
        finally:
            self._stop_watch()
            for task in (handshake, incident):
                task.cancel()
            # asyncio.wait, unlike awaiting the tasks under a suppress(),
            # never swallows a cancellation of this task itself.
            await asyncio.wait((handshake, incident))
            for task in (handshake, incident):
                if not task.cancelled():
                    task.exception()  # retrieved: errors were handled above

    async def _handshake(self) -> None:
        cfg = self.config
        shell = self.shell
        loop = shell.loop
        deadline = loop.time() + cfg.connect_timeout
        self.firmware = FirmwareDescription()
        if self._m999_on_open:
            self._m999_on_open = False
            await self._quiet_exchange(b"M999\n", _M999_QUIET)
        if self.reset_meatpack_on_connect or self.probe_on_connect:
            await self._probe()
        elif self.expect_boot_banner and not shell.heard.is_set():
            # Boards that reset on open print "start" once booted.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(shell.heard.wait(), min(_BOOT_WAIT, cfg.connect_timeout / 2))
        hello = shell.run(["M110 N0"])
        retried = False
        while True:
            try:
                await asyncio.wait_for(asyncio.shield(hello), min(_M110_RETRY, cfg.connect_timeout))
                break
            except TimeoutError:
                if loop.time() >= deadline:
                    hello.cancel()
                    raise TimeoutError(
                        f"no answer to M110 within {cfg.connect_timeout:g} s"
                    ) from None
                # A booting board may have swallowed it: the same line again.
                retried = True
                shell.proto.retransmit()
                shell.pump()
        if retried:
            # If the first copy was only slow, its twin's ok is still to come: let it
            # arrive with nothing in flight (a stray ok) before numbering anything else.
            await self._quiet(_M999_QUIET, 1.5)
        try:
            await asyncio.wait_for(shell.run(["M115"]), max(0.1, deadline - loop.time()))
        except GCodeError:
            pass  # a firmware without M115: no capabilities
        self.firmware.advanced_ok = shell.proto.advanced_ok_seen
        if cfg.meatpack == "auto" and self.firmware.has("MEATPACK"):
            await self._start_meatpack()
        setup = []
        if cfg.temperature_report_interval and self.firmware.has("AUTOREPORT_TEMP"):
            setup.append(f"M155 S{max(1, round(cfg.temperature_report_interval))}")
        if cfg.position_report_interval and self.firmware.has("AUTOREPORT_POS"):
            setup.append(f"M154 S{max(1, round(cfg.position_report_interval))}")
        if setup:
            await asyncio.wait_for(shell.run(setup), max(0.1, deadline - loop.time()))
        now = loop.time()
        shell.last_response = now
        self._last_temp_report = now
        self._next_temp_poll = self._next_pos_poll = now

    async def _quiet_exchange(self, data: bytes, quiet: float) -> None:
        """Write raw bytes outside the numbered stream and let the answers pass: wait
        for a first line (at most a second), then until ``quiet`` s pass without one."""
        shell = self.shell
        shell.heard.clear()
        shell.write(data)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(shell.heard.wait(), 1.0)
        await self._quiet(quiet, 3.0)

    async def _quiet(self, quiet: float, limit: float) -> None:
        """Until the firmware has said nothing for ``quiet`` s (at most ``limit`` s)."""
        shell = self.shell
        end = shell.loop.time() + limit
        while shell.loop.time() < end:
            shell.heard.clear()
            try:
                await asyncio.wait_for(shell.heard.wait(), quiet)
            except TimeoutError:
                break
        shell.heard.set()

    async def _probe(self) -> None:
        """Before numbering anything: switch off a MeatPack decoder a previous host
        left on, and ask for the last line number the firmware accepted (a line it
        refuses, with an error naming that number). A board still busy with the lines
        it took reads the question only once a command slot frees: the answer may take
        as long as the handshake may."""
        shell = self.shell
        self.last_line = None
        answered = asyncio.Event()
        seen: list[int] = []

        def listen(event: Event) -> None:
            if isinstance(event, FirmwareError) and event.last_line is not None:
                seen.append(event.last_line)
                answered.set()
            elif isinstance(event, LineReceived) and event.text.startswith("ok"):
                answered.set()  # the firmware took it without checking numbers

        remove = shell.add_listener(listen)
        try:
            data = shell.proto.probe_bytes() if self.probe_on_connect else b"\n"
            if self.reset_meatpack_on_connect:
                data = meatpack.RESET + data
            shell.write(data)
            if self.probe_on_connect:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(answered.wait(), self.config.connect_timeout)
            # the refusal's "Resend:" and "ok" follow: let them pass before M110, or
            # they would be taken for its answers
            await self._quiet(_M999_QUIET, 2.0)
        finally:
            remove()
        if seen:
            self.last_line = seen[-1]
        self.probe_on_connect = self.reset_meatpack_on_connect = False

    async def _start_meatpack(self) -> None:
        """Switch packing on and wait for the firmware to confirm it; stay plain if
        it does not."""
        shell = self.shell
        confirmed = asyncio.Event()

        def listen(event: Event) -> None:
            if isinstance(event, MeatPackState) and event.active and event.no_spaces:
                confirmed.set()

        remove = shell.add_listener(listen)
        try:
            shell.proto.start_meatpack(no_spaces=True)
            shell.pump()
            await asyncio.wait_for(confirmed.wait(), _MEATPACK_WAIT)
        except TimeoutError:
            log.warning("the firmware did not confirm MeatPack; staying with plain text")
            shell.proto.stop_meatpack()
            shell.pump()
        finally:
            remove()

    # ------------------------------------------------------------- watching
    def _start_watch(self) -> None:
        now = self.shell.loop.time()
        self._next_summary = now + SUMMARY_INTERVAL
        self._summarised = self._error_counts(self.shell.proto.counters)
        period = _HOUSEKEEPING
        cfg = self.config
        if cfg.temperature_report_interval and not self.firmware.has("AUTOREPORT_TEMP"):
            period = min(period, cfg.temperature_report_interval)
        if cfg.position_report_interval and not self.firmware.has("AUTOREPORT_POS"):
            period = min(period, cfg.position_report_interval)
        self._housekeeping_period = period
        self._housekeeping = self.shell.loop.call_at(now + period, self._housekeep)

    def _stop_watch(self) -> None:
        for handle in (self._silence, self._resend_timer, self._housekeeping):
            if handle is not None:
                handle.cancel()
        self._silence = self._resend_timer = self._housekeeping = None
        self._probed_at = None

    def _lines_out(self) -> None:
        """Lines went out with nothing in flight: the silence clock starts now."""
        shell = self.shell
        shell.last_response = shell.loop.time()
        if self._silence is None and self.state is LinkState.READY:
            self._silence = shell.loop.call_at(
                shell.last_response + self.config.response_timeout, self._check_silence
            )

    def _check_silence(self) -> None:
        self._silence = None
        shell = self.shell
        proto = shell.proto
        if not proto.in_flight or self.state is not LinkState.READY:
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
            self.incident(ERROR, f"printer not responding (nothing heard for {silent:.0f} s)")
            return
        else:
            next_check = self._probed_at + timeout
        self._silence = shell.loop.call_at(next_check, self._check_silence)

    def _resend_watch(self) -> None:
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
        if not proto.recovering or self.state is not LinkState.READY:
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
            self.lost(gone)
            return
        if self.state is LinkState.READY:
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
        auto_temp = self.firmware.has("AUTOREPORT_TEMP")
        if (
            interval
            and auto_temp
            and now - self._last_temp_report > max(_AUTOREPORT_GRACE, 3 * interval)
            and (self._temp_poll is None or self._temp_poll.acked)
        ):
            log.info("no temperature auto-report for %.0f s; enabling it again",
                     now - self._last_temp_report)
            self._last_temp_report = now
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
            and not self.firmware.has("AUTOREPORT_POS")
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
