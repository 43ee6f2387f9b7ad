"""The handshake and restart on awkward boards: an ok that names M110's argument, a board
that swallows its input while it boots, a handshake that failed, and a port without
modem-control lines for FIRMWARE_RESTART."""

from __future__ import annotations

import asyncio
import itertools
import time

from gateway.hostlink import HostLink, LinkState, StateChanged
from gateway.hostlink.protocol import Event, LineSent
from gateway.hostlink.virtual import VirtualPrinter, VirtualPrinterConfig

from .link_util import fast_config, wait_until
from .pty_peer import PtyPeer, plain_marlin


async def test_ok_echoing_the_m110_argument_is_accepted_at_once() -> None:
    def echoing(line: str) -> list[str]:
        if " M110 N0" in line:
            return ["ok N0"]  # the argument, not the line's own number (N1)
        return plain_marlin(line)

    with PtyPeer(echoing) as peer:
        link = HostLink(fast_config(port=peer.path))
        loop = asyncio.get_running_loop()
        started = loop.time()
        await link.start()
        try:
            assert link.state is LinkState.READY, link.state_message
            m110 = [line for line in peer.received if "M110" in line]
            assert m110 == ["N1 M110 N0*124"]  # accepted, not sent again
            # the boot wait (no banner on this port) is the only delay: no 1 s retry
            assert loop.time() - started < 2.0
            assert await link.send("M400") == []
        finally:
            await link.stop()


async def test_board_that_swallows_input_while_it_boots_gets_m110_again() -> None:
    """An AVR-like board: opening the port resets it, and for a second after its
    ``start`` the bootloader eats everything it is sent."""
    config = VirtualPrinterConfig(baud=1_000_000, reset_on_open=True, boot_time=1.0)
    with VirtualPrinter(config) as vp:
        link = HostLink(fast_config(port=vp.port, connect_timeout=6.0))
        loop = asyncio.get_running_loop()
        sent: list[float] = []

        def watch(event: Event) -> None:
            if isinstance(event, LineSent) and event.command == "M110 N0":
                sent.append(loop.time())

        link.add_listener(watch)
        await link.start()
        try:
            await link.wait_for_state(LinkState.READY, timeout=6)
            ready = loop.time()
            # M110 goes out again every second while the board swallows it (a copy may
            # also follow its banner at once, or answer its resend request for a line
            # whose head it swallowed): never 2 s without a try, until it answers
            times = [*sent, ready]
            gaps = [b - a for a, b in itertools.pairwise(times)]
            assert sent and max(gaps) <= 2.1, (sent, ready)
            assert vp.executed[-2:] == ["M110 N0", "M115"]
        finally:
            await link.stop()


async def test_reconnect_loop_recovers_after_a_failed_handshake() -> None:
    with PtyPeer(lambda line: []) as peer:
        link = HostLink(fast_config(port=peer.path, connect_timeout=1.5))
        messages: list[str] = []
        link.add_listener(
            lambda e: messages.append(e.message) if isinstance(e, StateChanged) else None
        )
        await link.start()
        try:
            assert link.state is LinkState.ERROR
            assert "no answer to M110" in link.state_message
            peer.respond = plain_marlin  # the board comes to life
            await link.wait_for_state(LinkState.READY, timeout=6)
            assert not [m for m in messages if "not responding" in m], messages
        finally:
            await link.stop()


async def test_firmware_restart_without_dtr_reopens_the_port_and_sends_m999() -> None:
    """A pty has no modem-control lines: the DTR pulse fails with 'Inappropriate ioctl
    for device', so the port is closed and reopened and the firmware told M999."""
    with VirtualPrinter(VirtualPrinterConfig(baud=1_000_000)) as vp:
        link = HostLink(fast_config(port=vp.port))
        await link.start()
        try:
            assert link.state is LinkState.READY, link.state_message
            await link.emergency("M112")
            await link.wait_for_state(LinkState.SHUTDOWN, timeout=5)
            await link.firmware_restart()
            await link.wait_for_state(LinkState.READY, timeout=8)
            executed = vp.executed
            assert "M999" in executed[executed.index("M112"):]
            assert await link.send("G1 X5 F3000") == []
            await wait_until(lambda: vp.executed[-1] == "G1 X5 F3000")
        finally:
            await link.stop()


async def test_a_slow_m110_answered_twice_does_not_shift_the_replies() -> None:
    """The first M110's ok comes after the 1 s retry, so both copies are answered: the
    second ok must not be taken for M115's."""
    answered = 0

    def slow_then_fast(line: str) -> list[str]:
        nonlocal answered
        if "M110" in line:
            answered += 1
            if answered == 1:
                time.sleep(1.3)  # the board is busy: the host sends M110 again meanwhile
            else:
                time.sleep(0.05)  # the copy's ok comes a little after the first one
            return ["ok"]
        if "M115" in line:
            time.sleep(0.3)  # answered after the host could have moved on
        return plain_marlin(line)

    with PtyPeer(slow_then_fast) as peer:
        link = HostLink(fast_config(port=peer.path))
        await link.start()
        try:
            assert link.state is LinkState.READY, link.state_message
            assert answered == 2
            assert link.firmware.name == "Scripted 1.0"
            assert await link.send("M400") == []
        finally:
            await link.stop()
