"""The one clock every expiry in the access component reads (tests stop and move it)."""

from __future__ import annotations

import time


class Clock:
    """Wall-clock seconds plus an offset. Tests `freeze()` it and `advance()` it, so that
    expiries are exact however slowly a loaded machine runs the test."""

    def __init__(self) -> None:
        self.offset = 0.0
        self.frozen_at: float | None = None

    def __call__(self) -> float:
        base = time.time() if self.frozen_at is None else self.frozen_at
        return base + self.offset

    def freeze(self) -> None:
        self.frozen_at = time.time()

    def advance(self, seconds: float) -> None:
        self.offset += seconds
