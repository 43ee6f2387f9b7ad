"""HostLink: owns the serial port and drives the protocol engine on asyncio.

Reading is event driven (``loop.add_reader``); every received chunk is fed to
the protocol, its events dispatched, and the send pipe topped up in the same
callback, so an ``ok`` turns into the next line without a task switch. A
supervisor task runs the connection life cycle (open, handshake, ready, and
recovery from resets, halts and unplugging); a watchdog task handles timeouts
and polling.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from .config import SerialConfig
from .errors import GCodeError, LinkBusy, LinkError, LinkNotReady
from .events import LinkState, StateChanged
from .firmware import FirmwareDescription
from .job import StreamJob
from .port import SerialPort
from .protocol import (
    Busy,
    CapabilityReport,
    CommandAcknowledged,
    ErrorKind,
    Event,
    FirmwareError,
    FirmwareInfo,
    FirmwareStarted,
    FirmwareWaiting,
    LineReceived,
    LineSent,
    MarlinProtocol,
    ProtocolFailure,
    ResendRequested,
    TemperatureReport,
    clean_command,
    command_word,
    split_script,
)
from .scheduler import Scheduler, Script

if TYPE_CHECKING:  # the simulator is imported only when port = virtual
    from .virtual import VirtualPrinter

log = logging.getLogger(__name__)

Listener = Callable[[Event], None]

EMERGENCY_COMMANDS = frozenset({"M108", "M112", "M410", "M876"})
_TICK = 0.05  # watchdog period, s
_RESEND_OK_WAIT = 0.1  # how long a bare ok may lag behind "Resend:", s
_RECOVERY_TIMEOUT = 0.3  # silence after a replay before sending it again, s
_M110_RETRY = 1.0  # a booting board may swallow the first M110s, s
_PORT_CHECK = 0.25  # how often the port path is checked, s
_AUTOREPORT_GRACE = 3.0  # auto-reports silent this long are switched on again, s

# Incident kinds, reported by callbacks to the supervisor.
_RESET, _HALT, _ERROR, _LOST = "reset", "halt", "error", "lost"


class HostLink:
    """The serial link to a Marlin firmware (or the built-in virtual printer)."""

    def __init__(self, config: SerialConfig) -> None:
        self.config = config
        self.virtual_printer: VirtualPrinter | None = None
        self.firmware = FirmwareDescription()
        self._state = LinkState.DISCONNECTED
        self._state_message = "not started"
        self._listeners: list[Listener] = []
        self._state_waiters: list[tuple[frozenset[LinkState], asyncio.Future[None]]] = []
        self._proto = self._new_protocol()
        self._sched = Scheduler()
        self._port: SerialPort | None = None
        self._path = config.port
        self._wbuf = bytearray()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._incidents: asyncio.Queue[tuple[str, str]] | None = None
        self._heard = asyncio.Event()  # any line since the port opened
        self._last_response = 0.0
        self._probed_at: float | None = None
        self._resend_at = 0.0
        self._next_port_check = 0.0
        self._temp_poll: Script | None = None
        self._pos_poll: Script | None = None
        self._next_temp_poll = 0.0
        self._next_pos_poll = 0.0
        self._last_temp_report = 0.0

    def _new_protocol(self) -> MarlinProtocol:
        cfg = self.config
        mode = cfg.advanced_ok
        return MarlinProtocol(
            pipelining="on" if mode == "on" else "off" if mode == "off" else "auto",
            rx_buffer_size=cfg.rx_buffer_size,
            max_in_flight=cfg.max_in_flight,
            max_resends_per_line=cfg.max_resends_per_line,
        )

    # ------------------------------------------------------------- public API
    @property
    def state(self) -> LinkState:
        return self._state

    @property
    def state_message(self) -> str:
        return self._state_message

    @property
    def job(self) -> StreamJob | None:
        """The current (or last) print stream."""
        return self._sched.job

    def add_listener(self, callback: Listener) -> Callable[[], None]:
        """Call ``callback(event)`` for every protocol and link event, in order,
        on the event loop. Returns a function that unsubscribes."""
        self._listeners.append(callback)

        def remove() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(callback)

        return remove

    async def start(self) -> None:
        """Open the port (creating the virtual printer if configured) and
        connect. Returns once the first connection attempt is over; see
        ``state``. Reconnects by itself from then on."""
        self._loop = asyncio.get_running_loop()
        self._incidents = asyncio.Queue()
        if self.config.port == "virtual" and self.virtual_printer is None:
            self.virtual_printer = _make_virtual_printer(self.config)
            self._path = await asyncio.to_thread(self.virtual_printer.start)
        self._tasks = [
            asyncio.create_task(self._supervise(), name="hostlink-supervisor"),
            asyncio.create_task(self._watchdog(), name="hostlink-watchdog"),
        ]
        await self.wait_for_state(
            LinkState.READY,
            LinkState.ERROR,
            LinkState.SHUTDOWN,
            LinkState.DISCONNECTED,
            timeout=self.config.connect_timeout + 5,
            skip_current=True,
        )

    async def stop(self) -> None:
        """Close the port, fail everything pending, stop the virtual printer."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        self._sched.drop_all(LinkNotReady("host link stopped"))
        self._close_port()
        self._set_state(LinkState.DISCONNECTED, "stopped")
        if self.virtual_printer is not None:
            await asyncio.to_thread(self.virtual_printer.stop)
            self.virtual_printer = None

    async def wait_for_state(
        self, *states: LinkState, timeout: float | None = None, skip_current: bool = False
    ) -> LinkState:
        """Wait until the link is in one of ``states``; TimeoutError otherwise."""
        wanted = frozenset(states)
        if self._state in wanted and not skip_current:
            return self._state
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (wanted, future)
        self._state_waiters.append(entry)
        try:
            await asyncio.wait_for(future, timeout)
        finally:
            with contextlib.suppress(ValueError):
                self._state_waiters.remove(entry)
        return self._state

    async def send(self, script: str, lockstep: bool = False) -> list[str]:
        """Run one or more G-code lines (newline separated; comments and blank
        lines dropped) in order, with nothing interleaved between them.

        Returns the firmware's reply lines once the last line's ``ok`` came.
        Raises GCodeError with the firmware's text if a line failed (the rest
        of the script is then not sent), LinkNotReady if not connected.
        ``lockstep``: each line waits for the previous one's ok, so nothing after a
        failing line has reached the firmware (and nothing else is sent in between)."""
        if self._state is not LinkState.READY:
            raise LinkNotReady(self._not_ready_message())
        lines = split_script(script)
        if not lines:
            return []
        return await self._run(lines, lockstep)

    async def emergency(self, command: str) -> None:
        """Send M112/M108/M410/M876 ahead of everything queued: out of band
        and unnumbered if the firmware has EMERGENCY_PARSER, else as the very
        next line. Returns once written/queued."""
        cmd = clean_command(command)
        word = command_word(cmd)
        if word not in EMERGENCY_COMMANDS:
            raise ValueError(f"{word or command!r} is not an emergency command")
        if self._port is None:
            raise LinkNotReady(self._not_ready_message())
        if self.firmware.has("EMERGENCY_PARSER"):
            self._write_urgent(self._proto.send_unnumbered(cmd))
            self._dispatch()
        else:
            self._sched.urgent.append(Script([cmd], None))
            self._pump()

    async def firmware_restart(self) -> None:
        """Reset the board: DTR pulse on a real port (boards with an auto-reset
        circuit), a simulated reset for the virtual printer. The firmware's
        ``start`` then runs the handshake again; this is how SHUTDOWN ends."""
        if self.virtual_printer is not None:
            self.virtual_printer.firmware_reset()
        elif self._port is not None:
            self._port.pulse_reset()
        else:
            raise LinkNotReady(self._not_ready_message())

    def stream(self, lines: Iterable[tuple[str, int]]) -> StreamJob:
        """Start streaming a print. ``lines`` yields (raw line, file offset
        after it); it is read lazily, as the firmware takes lines."""
        if self._state is not LinkState.READY:
            raise LinkNotReady(self._not_ready_message())
        current = self._sched.job
        if current is not None and current.active:
            raise LinkBusy("a print is already streaming")
        job = StreamJob(lines, self._pump)
        self._sched.job = job
        self._pump()
        return job

    # -------------------------------------------------------------- hot path
    def _on_readable(self) -> None:
        port = self._port
        if port is None:
            return
        try:
            data = port.read()
        except OSError as exc:
            self._lost(f"serial port {self._path}: {exc}")
            return
        if data:
            self._proto.feed(data)
            self._dispatch()
            self._pump()

    def _pump(self) -> None:
        """Offer lines to the protocol until flow control says stop; write."""
        if self._port is None:
            return
        sched = self._sched
        proto = self._proto
        while True:
            nxt = sched.peek()
            if nxt is None or not proto.submit(nxt[0], nxt[1], nxt[2]):
                break
            sched.advance()
        data = proto.data_to_send()
        if data:
            self._write(data)

    def _dispatch(self) -> None:
        events = self._proto.events()
        if not events:
            return
        listeners = self._listeners
        responded = False
        for event in events:
            kind = type(event)
            if kind is CommandAcknowledged:
                assert isinstance(event, CommandAcknowledged)
                responded = True
                owner = event.owner
                if isinstance(owner, StreamJob):
                    owner.line_acknowledged(event.tag, event.error)
                elif isinstance(owner, Script) and owner.acknowledged(event):
                    self._sched.in_flight.discard(owner)
            elif kind is LineReceived:
                self._heard.set()
            elif kind is not LineSent:
                responded = self._on_event(event) or responded
            for listener in listeners:
                try:
                    listener(event)
                except Exception:
                    log.exception("host link listener %r failed on %r", listener, event)
        if responded:
            self._last_response = self._now()
            self._probed_at = None

    def _write(self, data: bytes) -> None:
        port = self._port
        if port is None:
            return
        if self._wbuf:
            self._wbuf += data
            return
        try:
            n = port.write(data)
        except OSError as exc:
            self._lost(f"serial port {self._path}: {exc}")
            return
        if n < len(data):
            self._wbuf += data[n:]
            self._loop_().add_writer(port.fd, self._on_writable)

    # -------------------------------------------------------- less hot paths
    def _on_event(self, event: Event) -> bool:
        """Handle a rare event; True if it shows the firmware is responding."""
        if isinstance(event, TemperatureReport):
            self._last_temp_report = self._now()
            return False
        if isinstance(event, ResendRequested):
            self._resend_at = self._now()
            return True
        if isinstance(event, Busy | FirmwareWaiting):
            return True
        if isinstance(event, FirmwareError):
            if event.kind is ErrorKind.HALT:
                log.warning("firmware halted: %s", event.message)
                self._incident(_HALT, event.message)
            return True
        if isinstance(event, FirmwareStarted):
            self._incident(_RESET, "firmware restarted")
        elif isinstance(event, ProtocolFailure):
            self._incident(_ERROR, event.message)
        elif isinstance(event, FirmwareInfo):
            self.firmware.fields = dict(event.fields)
        elif isinstance(event, CapabilityReport):
            self.firmware.capabilities[event.name] = event.enabled
        return False

    def _on_writable(self) -> None:
        port = self._port
        if port is None:
            return
        try:
            n = port.write(self._wbuf)
        except OSError as exc:
            self._lost(f"serial port {self._path}: {exc}")
            return
        del self._wbuf[:n]
        if not self._wbuf:
            self._loop_().remove_writer(port.fd)

    def _write_urgent(self, data: bytes) -> None:
        """Write ``data`` before anything buffered, but after a line already
        partly written (a line cut in two would be garbage)."""
        if not self._wbuf:
            self._write(data)
            return
        cut = self._wbuf.find(b"\n") + 1
        self._wbuf[cut:cut] = data

    def _run(self, lines: list[str], lockstep: bool = False) -> asyncio.Future[list[str]]:
        future: asyncio.Future[list[str]] = self._loop_().create_future()
        self._sched.scripts.append(Script(lines, future, lockstep))
        self._pump()
        return future

    def _fire(self, command: str) -> Script:
        """Queue an internal command nobody awaits (polls)."""
        script = Script([command], None)
        self._sched.scripts.append(script)
        self._pump()
        return script

    def _incident(self, kind: str, message: str) -> None:
        """Something ended the current session: fail everything pending with
        the message, move to the matching state now (never ready after a
        halt), and let the supervisor recover."""
        if kind == _HALT and self._state is LinkState.SHUTDOWN:
            return  # "Printer halted. kill() called!" after the thermal error
        exc: LinkError = GCodeError(message) if kind == _HALT else LinkNotReady(message)
        self._sched.drop_all(exc)
        self._temp_poll = self._pos_poll = None
        if kind != _RESET:
            self._proto.reset()
        state = {
            _HALT: LinkState.SHUTDOWN,
            _RESET: LinkState.CONNECTING,
            _ERROR: LinkState.ERROR,
            _LOST: LinkState.DISCONNECTED,
        }[kind]
        self._set_state(state, message)
        if self._incidents is not None:
            self._incidents.put_nowait((kind, message))

    def _lost(self, message: str) -> None:
        self._close_port()
        self._incident(_LOST, message)

    def _set_state(self, state: LinkState, message: str) -> None:
        if state is self._state and message == self._state_message:
            return
        self._state = state
        self._state_message = message
        log.info("host link %s%s", state.value, f": {message}" if message else "")
        event = StateChanged(state, message)
        for listener in self._listeners:
            try:
                listener(event)
            except Exception:
                log.exception("host link listener %r failed on %r", listener, event)
        for wanted, future in list(self._state_waiters):
            if state in wanted and not future.done():
                future.set_result(None)

    def _not_ready_message(self) -> str:
        detail = f": {self._state_message}" if self._state_message else ""
        return f"printer link is {self._state.value}{detail}"

    def _loop_(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        return self._loop

    def _now(self) -> float:
        return self._loop_().time()

    # ------------------------------------------------------------- port
    def _open_port(self) -> bool:
        path = self._path
        if not SerialPort.available(path):
            self._set_state(LinkState.DISCONNECTED, f"waiting for serial port {path}")
            return False
        try:
            port = SerialPort(path, self.config.baud)
        except OSError as exc:
            self._set_state(LinkState.DISCONNECTED, f"cannot open {path}: {exc}")
            return False
        self._port = port
        self._wbuf.clear()
        self._heard.clear()
        self._proto.reset()
        self._loop_().add_reader(port.fd, self._on_readable)
        return True

    def _close_port(self) -> None:
        port = self._port
        if port is None:
            return
        self._port = None
        loop = self._loop_()
        loop.remove_reader(port.fd)
        loop.remove_writer(port.fd)
        self._wbuf.clear()
        port.close()

    # -------------------------------------------------------- life cycle
    async def _supervise(self) -> None:
        assert self._incidents is not None
        interval = self.config.reconnect_interval
        while True:
            if self._port is None and not self._open_port():
                await asyncio.sleep(interval)
                continue
            while not self._incidents.empty():
                self._incidents.get_nowait()  # about the session before this one
            kind = await self._session()
            if kind == _HALT:
                # Only a firmware reset (or unplugging) ends a halt.
                while kind not in (_RESET, _LOST):
                    kind, _ = await self._incidents.get()
            if kind == _ERROR:
                await asyncio.sleep(interval)
            elif kind == _LOST:
                await asyncio.sleep(min(interval, 0.2))

    async def _session(self) -> str:
        """Handshake, then stay ready until an incident; returns its kind."""
        assert self._incidents is not None
        if self._state is not LinkState.CONNECTING:
            self._set_state(LinkState.CONNECTING, f"connecting to {self._path}")
        handshake = asyncio.create_task(self._handshake())
        incident = asyncio.create_task(self._incidents.get())
        try:
            await asyncio.wait({handshake, incident}, return_when=asyncio.FIRST_COMPLETED)
            if incident.done():
                return incident.result()[0]
            try:
                handshake.result()
            except (LinkError, TimeoutError) as exc:
                message = str(exc) or "no answer from the firmware"
                self._incident(_ERROR, f"handshake failed: {message}")
                return _ERROR
            self._set_state(LinkState.READY, "")
            return (await incident)[0]
        finally:
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
        loop = self._loop_()
        deadline = loop.time() + cfg.connect_timeout
        self.firmware = FirmwareDescription()
        if self.virtual_printer is None:
            # Boards that reset when the port opens print "start" once booted.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._heard.wait(), min(2.0, cfg.connect_timeout / 2))
        hello = self._run(["M110 N0"])
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
                self._proto.retransmit()
                self._pump()
        try:
            await asyncio.wait_for(self._run(["M115"]), max(0.1, deadline - loop.time()))
        except GCodeError:
            pass  # a firmware without M115: no capabilities
        self.firmware.advanced_ok = self._proto.advanced_ok
        setup = []
        if cfg.temperature_report_interval and self.firmware.has("AUTOREPORT_TEMP"):
            setup.append(f"M155 S{max(1, round(cfg.temperature_report_interval))}")
        if cfg.position_report_interval and self.firmware.has("AUTOREPORT_POS"):
            setup.append(f"M154 S{max(1, round(cfg.position_report_interval))}")
        if setup:
            await asyncio.wait_for(self._run(setup), max(0.1, deadline - loop.time()))
        now = loop.time()
        self._last_response = now
        self._last_temp_report = now
        self._next_temp_poll = self._next_pos_poll = now

    async def _watchdog(self) -> None:
        cfg = self.config
        while True:
            await asyncio.sleep(_TICK)
            port = self._port
            if port is None:
                continue
            now = self._now()
            if now >= self._next_port_check:
                self._next_port_check = now + _PORT_CHECK
                gone = port.still_there()
                if gone is not None:
                    self._lost(gone)
                    continue
            self._check_silence(now, cfg)
            if self._state is LinkState.READY:
                self._poll(now, cfg)

    def _check_silence(self, now: float, cfg: SerialConfig) -> None:
        proto = self._proto
        if proto.learning_resend_ok and now - self._resend_at > _RESEND_OK_WAIT:
            proto.resend_ok_absent()
            self._pump()
        if not proto.in_flight:
            self._last_response = now
            return
        silent = now - self._last_response
        if self._probed_at is None:
            if silent > cfg.response_timeout or (
                proto.replay_stalled and silent > _RECOVERY_TIMEOUT
            ):
                # Send the oldest line again: the firmware's line-number check
                # makes this safe whether the line or only its ok was lost.
                self._probed_at = now
                proto.retransmit()
                self._pump()
        elif now - self._probed_at > cfg.response_timeout:
            self._incident(_ERROR, f"printer not responding (nothing heard for {silent:.0f} s)")

    def _poll(self, now: float, cfg: SerialConfig) -> None:
        """M105/M114 polling where the firmware cannot auto-report; and auto-reports
        turned on again where they went quiet (a setup lost in a handshake whose
        answers got out of step, or a firmware that forgot it)."""
        interval = cfg.temperature_report_interval
        if (
            interval
            and self.firmware.has("AUTOREPORT_TEMP")
            and now - self._last_temp_report > max(_AUTOREPORT_GRACE, 3 * interval)
            and (self._temp_poll is None or self._temp_poll.acked)
        ):
            log.info("no temperature auto-report for %.0f s; enabling it again",
                     now - self._last_temp_report)
            self._last_temp_report = now
            self._temp_poll = self._fire(f"M155 S{max(1, round(interval))}")
        if (
            interval
            and not self.firmware.has("AUTOREPORT_TEMP")
            and now >= self._next_temp_poll
            and (self._temp_poll is None or self._temp_poll.acked)
        ):
            self._next_temp_poll = now + interval
            self._temp_poll = self._fire("M105")
        interval = cfg.position_report_interval
        if (
            interval
            and not self.firmware.has("AUTOREPORT_POS")
            and now >= self._next_pos_poll
            and self._sched.idle
            and not self._proto.pending
        ):
            self._next_pos_poll = now + interval
            self._pos_poll = self._fire("M114")


def _make_virtual_printer(config: SerialConfig) -> VirtualPrinter:
    from .virtual import VirtualPrinter, VirtualPrinterConfig

    return VirtualPrinter(
        VirtualPrinterConfig(
            baud=config.baud,
            bufsize=config.virtual_bufsize,
            rx_buffer_size=config.rx_buffer_size,
            advanced_ok=config.virtual_advanced_ok,
            emergency_parser=config.virtual_emergency_parser,
            autoreport_temp=config.virtual_autoreport_temp,
            autoreport_pos=config.virtual_autoreport_pos,
            time_scale=config.virtual_time_scale,
            command_delay=config.virtual_command_delay,
            software_power=config.virtual_software_power,
            extra_sensors=config.virtual_extra_sensors,
            babystepping=config.virtual_babystepping,
        )
    )
