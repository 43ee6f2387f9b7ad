"""The user accounts: who exists, and checking their passwords (in a worker thread, so a
deliberately slow hash never stalls the event loop)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any

from components.access import passwords
from components.access.store import AccessStore, StoredUser
from gateway.errors import BadRequest

API_USER = "_API_KEY_USER_"
TRUSTED_USER = "_TRUSTED_USER_"
RESERVED_USERS = frozenset({API_USER, TRUSTED_USER})
SOURCES = ("moonraker",)
_USERNAME = re.compile(r"[^\x00-\x1f\x7f]{1,64}")


def public_info(user: StoredUser) -> dict[str, Any]:
    return {"username": user.username, "source": user.source, "created_on": user.created_on}


def check_new_credentials(username: str, password: str) -> None:
    if username in RESERVED_USERS:
        raise BadRequest(f"Invalid Request for user {username}")
    if _USERNAME.fullmatch(username) is None or username != username.strip():
        raise BadRequest("Invalid username: 1-64 printable characters, no outer spaces")
    check_password_shape(password)


def check_password_shape(password: str) -> None:
    if not password:
        raise BadRequest("Password must not be empty")
    if len(password) > passwords.MAX_PASSWORD_LENGTH:
        raise BadRequest(f"Password longer than {passwords.MAX_PASSWORD_LENGTH} characters")


class Users:
    def __init__(self, store: AccessStore, clock: Callable[[], float]) -> None:
        self._store = store
        self._clock = clock
        self.by_name: dict[str, StoredUser] = {}

    def load(self, users: list[StoredUser]) -> None:
        self.by_name = {u.username: u for u in users if u.username not in RESERVED_USERS}

    def __len__(self) -> int:
        return len(self.by_name)

    def get(self, username: str) -> StoredUser | None:
        return self.by_name.get(username)

    async def create(self, username: str, password: str, source: str) -> StoredUser:
        check_new_credentials(username, password)
        if username in self.by_name:
            raise BadRequest(f"User {username} already exists")
        hashed = await asyncio.to_thread(passwords.hash_password, password)
        if username in self.by_name:  # created meanwhile
            raise BadRequest(f"User {username} already exists")
        user = StoredUser(username, hashed, source, self._clock())
        self.by_name[username] = user
        await self._store.put_user(user)
        return user

    async def delete(self, username: str) -> None:
        if self.by_name.pop(username, None) is None:
            raise BadRequest(f"No registered user: {username}")
        await self._store.delete_user(username)

    async def verify(self, username: str, password: str) -> StoredUser | None:
        """The user when `password` is theirs. Unknown names cost the same time."""
        user = self.by_name.get(username)
        stored = user.password if user is not None else passwords.DUMMY_HASH
        if len(password) > passwords.MAX_PASSWORD_LENGTH:
            return None
        ok = await asyncio.to_thread(passwords.verify_password, password, stored)
        return user if ok and user is not None else None

    async def set_password(self, user: StoredUser, password: str) -> None:
        check_password_shape(password)
        user.password = await asyncio.to_thread(passwords.hash_password, password)
        await self._store.put_user(user)
