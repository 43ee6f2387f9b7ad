"""Tokens the server hands out: one-shot tokens (5 s, once, one address) and JWT pairs
bound to a login session (logout ends the session, so both of its tokens die at once)."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from components.access import webtoken
from components.access.store import StoredSession

ONESHOT_LIFETIME = 5.0
# outstanding one-shot tokens kept at most; the oldest go first
ONESHOT_LIMIT = 1024
ACCESS_LIFETIME = 3600.0
ISSUER = "skysail"


@dataclass(slots=True)
class _OneShot:
    ip: str
    user: dict[str, Any]
    expires: float


class OneShotTokens:
    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._tokens: dict[str, _OneShot] = {}

    def issue(self, ip: str, user: dict[str, Any]) -> str:
        now = self._clock()
        for token, entry in list(self._tokens.items()):
            if entry.expires <= now:
                del self._tokens[token]
        while len(self._tokens) >= ONESHOT_LIMIT:
            del self._tokens[next(iter(self._tokens))]
        token = base64.b32encode(secrets.token_bytes(20)).decode("ascii")
        self._tokens[token] = _OneShot(ip, user, now + ONESHOT_LIFETIME)
        return token

    def redeem(self, token: str, ip: str) -> dict[str, Any] | None:
        """The user the token was issued for; None (and the token is gone) otherwise."""
        entry = self._tokens.pop(token, None)
        if entry is None or entry.expires <= self._clock() or entry.ip != ip:
            return None
        return entry.user

    def discard(self, predicate: Callable[[dict[str, Any]], bool]) -> None:
        for token, entry in list(self._tokens.items()):
            if predicate(entry.user):
                del self._tokens[token]


class Sessions:
    """Active logins, each with an id carried by its access and refresh tokens."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._sessions: dict[str, StoredSession] = {}

    def load(self, sessions: list[StoredSession]) -> None:
        self._sessions = {s.sid: s for s in sessions}

    def open(self, username: str, lifetime: float) -> StoredSession:
        now = self._clock()
        for sid, old in list(self._sessions.items()):
            if old.expires_on <= now:
                del self._sessions[sid]
        session = StoredSession(secrets.token_urlsafe(18), username, now + lifetime)
        self._sessions[session.sid] = session
        return session

    def get(self, sid: str) -> StoredSession | None:
        return self._sessions.get(sid)

    def active(self, sid: str, username: str) -> bool:
        session = self._sessions.get(sid)
        return (
            session is not None
            and session.username == username
            and session.expires_on > self._clock()
        )

    def end(self, sid: str) -> None:
        self._sessions.pop(sid, None)

    def end_user(self, username: str, keep: str | None = None) -> list[str]:
        """End every session of `username` but `keep`; the ids ended."""
        ended = [s.sid for s in self._sessions.values()
                 if s.username == username and s.sid != keep]
        for sid in ended:
            del self._sessions[sid]
        return ended


class TokenSigner:
    """Issues and checks the JWTs of a session with the per-install secret."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._secret = b""

    def set_secret(self, secret_hex: str) -> None:
        self._secret = bytes.fromhex(secret_hex)

    def issue(self, session: StoredSession, token_type: str) -> str:
        now = int(self._clock())
        expires = now + int(ACCESS_LIFETIME) if token_type == "access" else session.expires_on
        claims = {
            "iss": ISSUER,
            "aud": webtoken.AUDIENCE,
            "iat": now,
            "exp": int(expires),
            "username": session.username,
            "token_type": token_type,
            "sid": session.sid,
            "jti": secrets.token_urlsafe(12),
        }
        return webtoken.encode(claims, self._secret)

    def verify(self, token: str, token_type: str) -> dict[str, Any]:
        """Claims of a valid token; raises webtoken.TokenError otherwise."""
        if not self._secret:
            raise webtoken.TokenError("no signing key yet")
        return webtoken.decode(
            token, self._secret, now=self._clock(), issuer=ISSUER, token_type=token_type
        )
