"""HostLink: the serial link to a Marlin firmware (or the built-in virtual printer).

The public face of the host link. The work is split between the I/O shell
(``shell.py``: the port, the write buffer, the pump, event dispatch) and the session
(``session.py``: the connection's life cycle, the handshake, the timers and polls).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from .config import SerialConfig
from .errors import LinkBusy, LinkNotReady
from .events import LinkState
from .firmware import FirmwareDescription
from .job import StreamJob
from .protocol import Event, LinkStats, clean_command, command_room, command_word, split_script
from .scheduler import Script
from .session import Session
from .shell import LinkShell

if TYPE_CHECKING:  # the simulator is imported only when port = virtual
    from .virtual import VirtualPrinter

Listener = Callable[[Event], None]

EMERGENCY_COMMANDS = frozenset({"M108", "M112", "M410", "M876"})


class HostLink:
    """The serial link to a Marlin firmware (or the built-in virtual printer)."""

    def __init__(self, config: SerialConfig) -> None:
        self.config = config
        self.virtual_printer: VirtualPrinter | None = None
        self._shell = LinkShell(config, self._on_event, self._on_lost)
        self._session = Session(self._shell, config)
        self._tasks: list[asyncio.Task[None]] = []

    def _on_event(self, event: Event) -> bool:
        return self._session.on_event(event)

    def _on_lost(self, message: str) -> None:
        self._session.lost(message)

    # ------------------------------------------------------------- public API
    @property
    def state(self) -> LinkState:
        return self._session.state

    @property
    def state_message(self) -> str:
        return self._session.state_message

    @property
    def firmware(self) -> FirmwareDescription:
        """What the firmware said about itself (M115) in the current connection."""
        return self._session.firmware

    @property
    def job(self) -> StreamJob | None:
        """The current (or last) print stream."""
        return self._shell.sched.job

    @property
    def next_line_number(self) -> int:
        return self._shell.proto.next_line_number

    @property
    def lines_in_flight(self) -> int:
        return self._shell.proto.in_flight

    @property
    def command_room(self) -> int:
        """The most bytes a command may take so that its line fits the firmware's buffer
        (``[serial] max_command_size``) whatever its line number; longer lines are
        refused by ``send`` (GCodeError) and fail a print."""
        return command_room(self.config.max_command_size)

    @property
    def meatpack(self) -> bool:
        """Lines are being written MeatPack-packed."""
        return self._shell.proto.meatpack

    def stats(self) -> LinkStats:
        """Link-quality counters since start (bytes, resends, line errors, timeouts)."""
        return self._shell.proto.counters.snapshot()

    def add_listener(self, callback: Listener) -> Callable[[], None]:
        """Call ``callback(event)`` for every protocol and link event, in order,
        on the event loop. Returns a function that unsubscribes."""
        return self._shell.add_listener(callback)

    def probe_on_connect(self, *, reset_meatpack: bool = False) -> None:
        """Before the next handshake numbers anything, learn the last line number the
        firmware accepted (``last_line_before_connect``), optionally switching off a
        MeatPack decoder a previous host left on. Used to resume after a host crash."""
        self._session.probe_on_connect = True
        self._session.reset_meatpack_on_connect = reset_meatpack

    @property
    def last_line_before_connect(self) -> int | None:
        """The probe's answer: the firmware's last accepted line number (None if it
        did not say)."""
        return self._session.last_line

    @property
    def restarted_since_open(self) -> bool:
        """The firmware said ``start`` (booted) after the port was opened."""
        return self._session.started_since_open

    async def start(self) -> None:
        """Open the port (creating the virtual printer if configured) and
        connect. Returns once the first connection attempt is over; see
        ``state``. Reconnects by itself from then on."""
        session = self._session
        session.incidents = asyncio.Queue()
        if self.config.port == "virtual" and self.virtual_printer is None:
            from .virtual.factory import from_serial_config

            self.virtual_printer = from_serial_config(self.config)
            self._shell.path = await asyncio.to_thread(self.virtual_printer.start)
        session.expect_boot_banner = self.virtual_printer is None
        self._tasks = [asyncio.create_task(session.supervise(), name="hostlink-supervisor")]
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
        self._shell.sched.drop_all(LinkNotReady("host link stopped"))
        self._shell.close()
        self._session.set_state(LinkState.DISCONNECTED, "stopped")
        if self.virtual_printer is not None:
            await asyncio.to_thread(self.virtual_printer.stop)
            self.virtual_printer = None

    async def wait_for_state(
        self, *states: LinkState, timeout: float | None = None, skip_current: bool = False
    ) -> LinkState:
        """Wait until the link is in one of ``states``; TimeoutError otherwise."""
        session = self._session
        wanted = frozenset(states)
        if session.state in wanted and not skip_current:
            return session.state
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (wanted, future)
        session.state_waiters.append(entry)
        try:
            await asyncio.wait_for(future, timeout)
        finally:
            with contextlib.suppress(ValueError):
                session.state_waiters.remove(entry)
        return session.state

    async def send(self, script: str, lockstep: bool = False) -> list[str]:
        """Run one or more G-code lines (newline separated; comments and blank
        lines dropped) in order, with nothing interleaved between them.

        Returns the firmware's reply lines once the last line's ``ok`` came.
        Raises GCodeError with the firmware's text if a line failed (the rest
        of the script is then not sent), LinkNotReady if not connected.
        ``lockstep``: each line waits for the previous one's ok, so nothing after a
        failing line has reached the firmware (and nothing else is sent in between)."""
        if self.state is not LinkState.READY:
            raise LinkNotReady(self._not_ready_message())
        lines = split_script(script)
        if not lines:
            return []
        return await self._shell.run(lines, lockstep)

    async def emergency(self, command: str) -> None:
        """Send M112/M108/M410/M876 ahead of everything queued: out of band
        and unnumbered if the firmware has EMERGENCY_PARSER, else as the very
        next line. Returns once written/queued."""
        cmd = clean_command(command)
        word = command_word(cmd)
        if word not in EMERGENCY_COMMANDS:
            raise ValueError(f"{word or command!r} is not an emergency command")
        shell = self._shell
        if shell.port is None:
            raise LinkNotReady(self._not_ready_message())
        if self.firmware.has("EMERGENCY_PARSER"):
            shell.write_urgent(shell.proto.send_unnumbered(cmd))
        else:
            shell.sched.urgent.append(Script([cmd], None))
            shell.pump()

    async def firmware_restart(self) -> None:
        """Reset the board: a DTR pulse on a real port (boards with an auto-reset
        circuit), a simulated reset for the virtual printer. The firmware's ``start``
        then runs the handshake again; this is how SHUTDOWN ends. Where the port has
        no modem-control lines (a pty, socat, ser2net, some USB-CDC adapters) the
        port is closed and reopened and M999 sent instead."""
        shell = self._shell
        if self.virtual_printer is not None:
            self.virtual_printer.firmware_reset()
        elif shell.port is not None:
            try:
                shell.port.pulse_reset()
            except OSError:
                self._session.restart_by_reopening()
        else:
            raise LinkNotReady(self._not_ready_message())

    def stream(self, lines: Iterable[tuple[str, int]]) -> StreamJob:
        """Start streaming a print. ``lines`` yields (raw line, file offset
        after it); it is read lazily, as the firmware takes lines."""
        if self.state is not LinkState.READY:
            raise LinkNotReady(self._not_ready_message())
        shell = self._shell
        current = shell.sched.job
        if current is not None and current.active:
            raise LinkBusy("a print is already streaming")
        job = StreamJob(lines, shell.pump)
        shell.sched.job = job
        shell.pump()
        return job

    def _not_ready_message(self) -> str:
        detail = f": {self.state_message}" if self.state_message else ""
        return f"printer link is {self.state.value}{detail}"
