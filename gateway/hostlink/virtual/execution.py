"""What the simulated firmware ran, and how long each command takes.

The record is what tests compare with the file they printed; with ``record_path`` it is
also appended to a file, for a printer in its own process (python -m ...virtual
--record FILE) that outlives the host. A command cut short by a reset never ran: it
leaves the record again (a ``#cut short`` line in the file), so a print resumed after
the reset sends it once more and the record still shows it once."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, TextIO

from .stats import VirtualPrinterStats

if TYPE_CHECKING:
    from .firmware import Firmware

CUT_SHORT = "#cut short"


class Recorder:
    def __init__(self, lock: threading.Lock, stats: VirtualPrinterStats,
                 path: str | None) -> None:
        self._lock = lock
        self._stats = stats
        self._executed: list[str] = []
        self._file: TextIO | None = open(path, "a", buffering=1) if path else None  # noqa: SIM115

    @property
    def executed(self) -> list[str]:
        with self._lock:
            return list(self._executed)

    def record(self, text: str) -> None:
        with self._lock:
            self._executed.append(text)
            self._stats.commands_executed += 1
            if self._file is not None:
                self._file.write(text + "\n")

    def cut_short(self, text: str) -> None:
        with self._lock:
            if self._executed and self._executed[-1] == text:
                self._executed.pop()
                self._stats.commands_executed -= 1
                if self._file is not None:
                    self._file.write(CUT_SHORT + "\n")

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def is_move(line: str) -> bool:
    """G0-G3 (after an optional N word), for the lean mode."""
    i = 0
    if line[:1] == "N":
        i = 1
        while i < len(line) and line[i].isdigit():
            i += 1
        while i < len(line) and line[i] == " ":
            i += 1
    return line[i : i + 1] == "G" and line[i + 1 : i + 2] in ("0", "1", "2", "3") and not (
        line[i + 2 : i + 3].isdigit()
    )


class Pacer:
    """Each command costs ``delay`` of firmware time, kept on a clock of its own so
    that the rate is exact on average whatever the sleep granularity: a late wake-up is
    made up by the next commands, unless the queue ran dry meanwhile (``starved``)."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.clock = 0.0
        self.starved = True

    def pace(self, fw: Firmware) -> None:
        now = time.monotonic()
        if self.starved:
            self.starved = False
            self.clock = max(now, self.clock)
        self.clock += self.delay
        deadline = self.clock - 0.001  # a millisecond ahead at most
        if deadline > now:
            fw.wait_until(lambda: time.monotonic() >= deadline, lambda: deadline)
