"""Property tests: whatever the wire does, the firmware executes exactly the
submitted commands, in order, once each, and the host acknowledges exactly
those. Runs the protocol against the pure Marlin model in marlin_model.py
with random delivery interleavings, corrupted, truncated and lost lines, and
lost oks.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.hostlink.protocol import CommandAcknowledged, MarlinProtocol, ProtocolFailure

from .marlin_model import MarlinModel


@dataclass
class Faults:
    corrupt: float = 0.0  # a byte of a line replaced
    truncate: float = 0.0  # a byte of a line dropped
    lose: float = 0.0  # a whole line lost
    lose_ok: float = 0.0  # an ok from the firmware lost

    @property
    def none(self) -> bool:
        return not (self.corrupt or self.truncate or self.lose or self.lose_ok)


def damage(rng: random.Random, line: bytes, faults: Faults) -> bytes:
    """At most one fault per transmitted line, before its ``*``.

    Marlin runs any line without ``N`` and ``*`` unchecked. The tail of a line
    cut by its RX flush is refused only because it still carries ``*``; a
    second fault that removed it would make the firmware run garbage, a flaw
    of the wire protocol no host can fix. Likewise XOR checksums cannot
    promise to catch two faults in one line.
    """
    roll = rng.random()
    body = line[: line.rfind(b"*")]
    tail = line[len(body) :]
    if roll < faults.lose:
        return b""
    roll -= faults.lose
    if roll < faults.corrupt and body:
        i = rng.randrange(len(body))
        new = rng.choice([c for c in b"0123456789 GMXYZNE." if c != body[i]])
        return body[:i] + bytes([new]) + body[i + 1 :] + tail
    roll -= faults.corrupt
    if roll < faults.truncate and body:
        i = rng.randrange(len(body))
        return body[:i] + body[i + 1 :] + tail
    return line


def simulate(
    seed: int,
    commands: list[str],
    faults: Faults,
    *,
    firmware_advanced_ok: bool,
    resend_ok: bool,
    host_mode: str,
    bufsize: int = 4,
    rx_size: int = 128,
) -> tuple[MarlinModel, list[str]]:
    rng = random.Random(seed)
    proto = MarlinProtocol(
        advanced_ok=host_mode,  # type: ignore[arg-type]
        rx_buffer_size=rx_size,
        max_in_flight=8,
        max_resends_per_line=200,
    )
    fw = MarlinModel(
        advanced_ok=firmware_advanced_ok, resend_ok=resend_ok, bufsize=bufsize, rx_size=rx_size)
    queue = ["M110 N0", *commands]
    to_fw = bytearray()
    to_host = bytearray()
    acks: list[str] = []
    i = 0
    for _ in range(20_000):
        while i < len(queue) and proto.submit(queue[i]):
            i += 1
        for line in proto.data_to_send().splitlines(keepends=True):
            to_fw += damage(rng, line, faults)
        for event in proto.events():
            if isinstance(event, CommandAcknowledged):
                acks.append(event.command)
            assert not isinstance(event, ProtocolFailure), event.message
        if faults.none:
            unread = len(to_fw) + len(fw.rx) + len(fw.partial)
            assert unread < rx_size, "flow control let the RX buffer overflow"
        if i == len(queue) and proto.pending == 0:
            break
        actions = []
        if to_fw:
            actions.append("wire")
        if fw.rx and len(fw.ring) < fw.bufsize:
            actions.append("read")
        if fw.ring:
            actions.append("execute")
        if to_host:
            actions.append("host")
        if not actions:
            # Everything is quiet but work is outstanding: the link's timers.
            if proto.learning_resend_ok:
                proto.resend_ok_absent()
            else:
                assert proto.retransmit() or proto.pending == 0
            continue
        action = rng.choice(actions)
        if action == "wire":
            # Deliver what fits: an RX overflow would garble lines in ways an
            # XOR checksum misses now and then, which is no test of ours.
            k = min(rng.randint(1, len(to_fw)), fw.rx_size - 1 - len(fw.rx))
            fw.receive(bytes(to_fw[:k]))
            del to_fw[:k]
            if k == 0:
                fw.read_serial()
        elif action == "read":
            fw.read_serial()
        elif action == "execute":
            fw.execute_one()
        else:
            k = rng.randint(1, len(to_host))
            proto.feed(bytes(to_host[:k]))
            del to_host[:k]
        for line in fw.take_output().splitlines(keepends=True):
            if line.startswith(b"ok") and rng.random() < faults.lose_ok:
                continue
            to_host += line
    else:
        raise AssertionError("simulation did not finish")
    return fw, acks


def commands_strategy() -> st.SearchStrategy[list[str]]:
    move = st.builds(
        lambda x, y, f: f"G1 X{x:.3f} Y{y:.3f} F{f}",
        st.floats(0, 235),
        st.floats(0, 235),
        st.integers(600, 9000),
    )
    other = st.sampled_from(["M105", "M114", "G4 P0", "M400", "G92 E0"])
    return st.lists(st.one_of(move, move, move, other), min_size=1, max_size=60)


MODES = st.sampled_from(
    [
        # firmware ADVANCED_OK, resend_ok (Marlin 2.1 vs 2.0), the host's advanced_ok mode
        (True, True, "auto"),
        (True, False, "auto"),
        (False, True, "auto"),
        (False, False, "auto"),
        (True, True, "off"),
        (True, True, "on"),
    ]
)


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 2**32), commands=commands_strategy(), mode=MODES)
def test_clean_wire_executes_everything_once_in_order_without_overflow(
    seed: int, commands: list[str], mode: tuple[bool, bool, str]
) -> None:
    advanced_ok, resend_ok, host_mode = mode
    fw, acks = simulate(
        seed,
        commands,
        Faults(),
        firmware_advanced_ok=advanced_ok,
        resend_ok=resend_ok,
        host_mode=host_mode,
    )
    assert fw.executed[1:] == commands
    assert acks[1:] == commands
    assert fw.line_errors == 0


@settings(max_examples=300, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    commands=commands_strategy(),
    mode=MODES,
    corrupt=st.sampled_from([0.0, 0.01, 0.1, 0.3]),
    truncate=st.sampled_from([0.0, 0.05, 0.2]),
    lose=st.sampled_from([0.0, 0.05, 0.2]),
    lose_ok=st.sampled_from([0.0, 0.05, 0.2]),
    bufsize=st.sampled_from([1, 4, 8]),
)
def test_damaged_wire_still_executes_exactly_the_sent_sequence(
    seed: int,
    commands: list[str],
    mode: tuple[bool, bool, str],
    corrupt: float,
    truncate: float,
    lose: float,
    lose_ok: float,
    bufsize: int,
) -> None:
    advanced_ok, resend_ok, host_mode = mode
    faults = Faults(corrupt=corrupt, truncate=truncate, lose=lose, lose_ok=lose_ok)
    fw, acks = simulate(
        seed,
        commands,
        faults,
        firmware_advanced_ok=advanced_ok,
        resend_ok=resend_ok,
        host_mode=host_mode,
        bufsize=bufsize,
    )
    # M110 may run more than once (it is re-sent until acknowledged).
    executed = [c for c in fw.executed if c != "M110 N0"]
    assert executed == commands
    assert [c for c in acks if c != "M110 N0"] == commands
