"""The connection's life cycle: open, handshake (with the last-line probe and MeatPack),
ready, and recovery from resets, halts, silences and unplugging. The timers that watch
the firmware while it is ready are in watch.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from .config import SerialConfig
from .errors import GCodeError, LinkError, LinkNotReady
from .events import LinkState, StateChanged
from .firmware import FirmwareDescription
from .job import StreamJob
from .protocol import (
    Busy,
    CapabilityReport,
    ErrorKind,
    Event,
    FirmwareError,
    FirmwareInfo,
    FirmwareStarted,
    FirmwareWaiting,
    LineAbandoned,
    LineReceived,
    MeatPackState,
    MeatPackStopped,
    ProtocolFailure,
    ResendRequested,
    TemperatureReport,
    meatpack,
)
from .shell import LinkShell
from .watch import Watch

log = logging.getLogger(__name__)

_M110_RETRY = 1.0  # a booting board may swallow the first M110s, s
_BOOT_WAIT = 1.0  # how long a board that resets on open may take to say "start", s
_M999_QUIET = 0.3  # silence that ends the firmware's answers to M999 or the probe, s
_MEATPACK_WAIT = 1.0  # for the firmware to confirm MeatPack, s

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
        self.watch = Watch(shell, config, self)

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
        self.watch.stop()
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
            self.watch.last_temp_report = self.shell.loop.time()
            return False
        if isinstance(event, ResendRequested):
            if not event.ignored:
                self.watch.resend()
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
        elif isinstance(event, LineAbandoned):
            # one line the firmware cannot take; the link goes on without it
            log.warning("%s", event.message)
            if isinstance(event.owner, StreamJob):
                event.owner.fail(event.message)  # a print does not go on with a gap
            return True
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
            self.watch.start()
            self.set_state(LinkState.READY, "")
            return (await incident)[0]
        finally:
            self.watch.stop()
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
        shell.last_response = loop.time()
        self.watch.reset_polls()

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
