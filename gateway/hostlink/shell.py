"""The I/O shell around the protocol engine: the port's file descriptor, the write
buffer, the pump that feeds lines to the engine, and event dispatch.

Reading is event driven (``loop.add_reader``); every received chunk is fed to the
engine, its events dispatched, and the send pipe topped up in the same callback, so an
``ok`` turns into the next line without a task switch, a timer or a log call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from .config import SerialConfig
from .job import StreamJob
from .port import SerialPort
from .protocol import (
    CommandAcknowledged,
    Event,
    LineReceived,
    LineSent,
    LineTooLong,
    MarlinProtocol,
)
from .scheduler import Scheduler, Script

log = logging.getLogger(__name__)

Listener = Callable[[Event], None]


class LinkShell:
    """Owns the open port and the engine; knows nothing of the connection's life cycle.

    ``on_event(event)`` (the session) sees every event other than line echoes and
    acknowledgements and returns True when it shows the firmware is responding;
    ``on_lost(message)`` is told when the port fails.
    """

    def __init__(
        self,
        config: SerialConfig,
        on_event: Callable[[Event], bool],
        on_lost: Callable[[str], None],
    ) -> None:
        self.config = config
        self.proto = self.new_protocol()
        self.sched = Scheduler()
        self.port: SerialPort | None = None
        self.path = config.port
        self.listeners: list[Listener] = []
        self.heard = asyncio.Event()  # any line since the port opened
        # loop time of the last sign of life (an ok, busy:, a resend request); the
        # session's silence deadline reads it
        self.last_response = 0.0
        # called when lines go out while nothing was in flight (arms the silence timer)
        self.on_in_flight: Callable[[], None] = lambda: None
        self._on_event = on_event
        self._on_lost = on_lost
        self._wbuf = bytearray()
        self._loop: asyncio.AbstractEventLoop | None = None

    def new_protocol(self) -> MarlinProtocol:
        cfg = self.config
        mode = cfg.advanced_ok
        return MarlinProtocol(
            advanced_ok="on" if mode == "on" else "off" if mode == "off" else "auto",
            rx_buffer_size=cfg.rx_buffer_size,
            max_in_flight=cfg.max_in_flight,
            max_resends_per_line=cfg.max_resends_per_line,
            max_command_size=cfg.max_command_size,
        )

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        return self._loop

    # ------------------------------------------------------------------- port
    def open(self) -> str | None:
        """Open the configured path; None on success, else why not."""
        path = self.path
        if not SerialPort.available(path):
            return f"waiting for serial port {path}"
        try:
            port = SerialPort(path, self.config.baud)
        except OSError as exc:
            return f"cannot open {path}: {exc}"
        self.port = port
        self._wbuf.clear()
        self.heard.clear()
        self.proto.reset()
        self.loop.add_reader(port.fd, self._on_readable)
        return None

    def close(self) -> None:
        port = self.port
        if port is None:
            return
        self.port = None
        loop = self.loop
        loop.remove_reader(port.fd)
        loop.remove_writer(port.fd)
        self._wbuf.clear()
        port.close()

    # --------------------------------------------------------------- hot path
    def _on_readable(self) -> None:
        port = self.port
        if port is None:
            return
        try:
            data = port.read()
        except OSError as exc:
            self._on_lost(f"serial port {self.path}: {exc}")
            return
        if data:
            self.proto.feed(data)
            self.dispatch()
            self.pump()

    def pump(self) -> None:
        """Offer lines to the engine until flow control says stop; write."""
        if self.port is None:
            return
        sched = self.sched
        proto = self.proto
        idle = proto.in_flight == 0
        while True:
            nxt = sched.peek()
            if nxt is None:
                break
            try:
                if not proto.submit(nxt[0], nxt[1], nxt[2]):
                    break
            except LineTooLong as exc:
                sched.refuse(str(exc))  # its script (or print) fails; nothing was sent
                continue
            sched.advance(proto.last_submitted)
        data = proto.data_to_send()
        if data:
            self.write(data)
            if idle:
                self.on_in_flight()

    def dispatch(self) -> None:
        events = self.proto.events()
        if not events:
            return
        listeners = self.listeners
        responded = False
        for event in events:
            kind = type(event)
            if kind is CommandAcknowledged:
                assert isinstance(event, CommandAcknowledged)
                responded = True
                owner = event.owner
                if isinstance(owner, StreamJob):
                    owner.line_acknowledged(event.n, event.tag, event.error)
                elif isinstance(owner, Script) and owner.acknowledged(event):
                    self.sched.in_flight.discard(owner)
            elif kind is LineReceived:
                self.heard.set()
            elif kind is not LineSent:
                responded = self._on_event(event) or responded
            for listener in listeners:
                try:
                    listener(event)
                except Exception:
                    log.exception("host link listener %r failed on %r", listener, event)
        if responded:
            self.last_response = self.loop.time()

    def write(self, data: bytes) -> None:
        port = self.port
        if port is None:
            return
        if self._wbuf:
            self._wbuf += data
            return
        try:
            n = port.write(data)
        except OSError as exc:
            self._on_lost(f"serial port {self.path}: {exc}")
            return
        self.proto.counters.bytes_write += n
        if n < len(data):
            self._wbuf += data[n:]
            self.loop.add_writer(port.fd, self._on_writable)

    def _on_writable(self) -> None:
        port = self.port
        if port is None:
            return
        try:
            n = port.write(self._wbuf)
        except OSError as exc:
            self._on_lost(f"serial port {self.path}: {exc}")
            return
        self.proto.counters.bytes_write += n
        del self._wbuf[:n]
        if not self._wbuf:
            self.loop.remove_writer(port.fd)

    def write_urgent(self, data: bytes) -> None:
        """Write an out-of-band command. Flow control keeps what waits in our own
        buffer to a few lines (the firmware's receive buffer), so it simply goes after
        them: never inside a partly written line, where it would be garbage."""
        self.write(data)
        self.dispatch()

    # ---------------------------------------------------------------- queueing
    def run(self, lines: list[str], lockstep: bool = False) -> asyncio.Future[list[str]]:
        """Queue a script; the future has its replies (or the firmware's error)."""
        future: asyncio.Future[list[str]] = self.loop.create_future()
        self.sched.scripts.append(Script(lines, future, lockstep))
        self.pump()
        return future

    def fire(self, command: str) -> Script:
        """Queue an internal command nobody awaits (polls)."""
        script = Script([command], None)
        self.sched.scripts.append(script)
        self.pump()
        return script

    def notify(self, event: Event) -> None:
        """Give listeners an event of the link's own (state changes)."""
        for listener in self.listeners:
            try:
                listener(event)
            except Exception:
                log.exception("host link listener %r failed on %r", listener, event)

    def add_listener(self, callback: Listener) -> Callable[[], None]:
        self.listeners.append(callback)

        def remove() -> None:
            with contextlib.suppress(ValueError):
                self.listeners.remove(callback)

        return remove
