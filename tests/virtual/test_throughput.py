"""A well-behaved windowed host streams through the simulator without a single overflow
or resend. (How fast is measured by bench/stream.py: a timed assertion here would fail on
a loaded machine for reasons that are not bugs.)"""

from __future__ import annotations

import time

from .conftest import PrinterFactory, numbered


def test_windowed_streaming_executes_every_line_without_overflow(
    make_printer: PrinterFactory,
) -> None:
    vp, host = make_printer(time_scale=1000.0)
    count = 1500
    lines = [(numbered(n, f"G1 X{n % 10} Y{n % 7}") + "\n").encode() for n in range(1, count + 1)]
    sent = acked = 0
    inflight: list[int] = []
    buf = b""
    t0 = time.monotonic()
    deadline = t0 + 120
    while acked < count and time.monotonic() < deadline:
        # credit window: at most BUFSIZE-1 lines and RX_BUFFER_SIZE-1 bytes in flight
        while sent < count and len(inflight) < 3 and sum(inflight) + len(lines[sent]) < 128:
            host.ser.write(lines[sent])
            inflight.append(len(lines[sent]))
            sent += 1
        buf += host.ser.read(max(1, host.ser.in_waiting))
        *complete, buf = buf.split(b"\n")
        for line in complete:
            if line.startswith(b"ok"):
                acked += 1
                inflight.pop(0)
    assert acked == count
    s = vp.stats
    assert (s.rx_overflows, s.resends_requested, s.commands_executed) == (0, 0, count)
