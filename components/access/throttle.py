"""Slows password guessing: after a few failures from one address, each further attempt
must wait twice as long as the last (up to a cap); `max_login_attempts` failures lock the
address out until the server restarts, as Moonraker does.

An attempt counts as a failure the moment it is let through (`attempt`), before the
slow password check, and is taken back only when the password was right
(`succeeded`): so parallel guesses cannot all pass the check while the first ones are
still being verified (issue 17.6)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from gateway.errors import ServerError
from gateway.transports.guard import address_key  # per /64 for IPv6, as connections

log = logging.getLogger(__name__)

FREE_FAILURES = 3
BASE_DELAY = 1.0
MAX_DELAY = 300.0
# an address silent this long after its last failure starts afresh
FORGET_AFTER = 3600.0
MAX_TRACKED = 10_000


class TooManyAttempts(ServerError):
    status = 429


@dataclass(slots=True)
class _Record:
    failures: int
    last: float
    retry_at: float


class LoginThrottle:
    def __init__(self, clock: Callable[[], float], max_attempts: int | None) -> None:
        self._clock = clock
        self._max = max_attempts
        self._records: dict[str, _Record] = {}

    def check(self, ip: str) -> None:
        """Raise if `ip` may not try a password now."""
        record = self._records.get(address_key(ip))
        if record is None:
            return
        now = self._clock()
        if self._max is not None and record.failures >= self._max:
            raise ServerError("Unauthorized, Maximum Login Attempts Reached", 401)
        if now - record.last > FORGET_AFTER:
            del self._records[address_key(ip)]
            return
        if now < record.retry_at:
            wait = record.retry_at - now
            raise TooManyAttempts(f"Too many failed login attempts; retry in {wait:.0f} s")

    def attempt(self, ip: str) -> None:
        """Let `ip` try a password now (else raise), counting the try as a failure
        until `succeeded` takes it back."""
        self.check(ip)
        key = address_key(ip)
        now = self._clock()
        record = self._records.pop(key, None) or _Record(0, now, now)
        record.failures += 1
        record.last = now
        extra = record.failures - FREE_FAILURES
        delay = 0.0 if extra < 0 else min(BASE_DELAY * 2.0**extra, MAX_DELAY)
        record.retry_at = now + delay
        self._records[key] = record
        while len(self._records) > MAX_TRACKED:
            del self._records[next(iter(self._records))]

    def failed(self, ip: str, username: str) -> None:
        """The attempt was wrong (it is counted already): log it."""
        record = self._records.get(address_key(ip))
        failures = record.failures if record is not None else 1
        wait = max(0.0, record.retry_at - self._clock()) if record is not None else 0.0
        log.warning(
            "failed login for user %r from %s (%d failures; next attempt in %.0f s)",
            username[:64], ip, failures, wait,
        )

    def succeeded(self, ip: str) -> None:
        """The attempt was right: it was no failure, and the address starts afresh
        (unless it is locked out already)."""
        record = self._records.get(address_key(ip))
        if record is None:
            return
        record.failures = max(0, record.failures - 1)
        if self._max is None or record.failures < self._max:
            del self._records[address_key(ip)]
