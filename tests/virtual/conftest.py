"""Fixtures: a started virtual printer and a small pyserial host talking to it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
import serial

from gateway.hostlink.virtual import VirtualPrinter, VirtualPrinterConfig

# the default bound on waiting for a line: a failure only, so generous for a loaded
# machine (tests that assert promptness give their own bound)
WAIT = 10.0


def numbered(n: int, cmd: str) -> str:
    body = f"N{n} {cmd}"
    cs = 0
    for b in body.encode():
        cs ^= b
    return f"{body}*{cs}"


class Host:
    """A deliberately simple host: raw lines out, lines in, waits with deadlines."""

    def __init__(self, port: str, baud: int = 250000) -> None:
        self.ser = serial.Serial(port, baud, timeout=0.02)
        self.seen: list[str] = []
        self._partial = b""

    def close(self) -> None:
        self.ser.close()

    def send(self, line: str) -> None:
        self.ser.write(line.encode("latin-1") + b"\n")

    def send_n(self, n: int, cmd: str) -> None:
        self.send(numbered(n, cmd))

    def read_line(self, timeout: float) -> str | None:
        deadline = time.monotonic() + timeout
        while True:
            nl = self._partial.find(b"\n")
            if nl >= 0:
                line = self._partial[:nl].decode("latin-1").strip()
                self._partial = self._partial[nl + 1 :]
                self.seen.append(line)
                return line
            if time.monotonic() >= deadline:
                return None
            self._partial += self.ser.read(max(1, self.ser.in_waiting))

    def expect(self, pred: Callable[[str], bool], timeout: float = WAIT) -> list[str]:
        """Read lines until one satisfies ``pred``; returns every line read (match last)."""
        got: list[str] = []
        deadline = time.monotonic() + timeout
        while True:
            line = self.read_line(max(0.0, deadline - time.monotonic()))
            if line is None:
                raise AssertionError(f"timed out; got {got!r}")
            got.append(line)
            if pred(line):
                return got

    def expect_ok(self, timeout: float = WAIT) -> list[str]:
        return self.expect(lambda s: s.startswith("ok"), timeout)

    def command(self, cmd: str, timeout: float = WAIT) -> list[str]:
        self.send(cmd)
        return self.expect_ok(timeout)

    def silent_for(self, seconds: float) -> list[str]:
        """Everything that arrives within ``seconds`` (for asserting absence)."""
        got: list[str] = []
        deadline = time.monotonic() + seconds
        while (line := self.read_line(max(0.0, deadline - time.monotonic()))) is not None:
            got.append(line)
        return got


def wait_for(cond: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.005)


PrinterFactory = Callable[..., tuple[VirtualPrinter, Host]]


@pytest.fixture
def make_printer() -> Iterator[PrinterFactory]:
    made: list[tuple[VirtualPrinter, Host]] = []

    def factory(**kw: object) -> tuple[VirtualPrinter, Host]:
        vp = VirtualPrinter(VirtualPrinterConfig(**kw))  # type: ignore[arg-type]
        port = vp.start()
        host = Host(port, vp.config.baud)
        made.append((vp, host))
        return vp, host

    yield factory
    for vp, host in made:
        host.close()
        vp.stop()


@pytest.fixture
def printer(make_printer: PrinterFactory) -> tuple[VirtualPrinter, Host]:
    return make_printer(time_scale=20.0)
