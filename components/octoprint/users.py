"""User names as OctoPrint clients see them."""

from __future__ import annotations

# what the access component calls API-key and trusted-address callers; OctoPrint's names
_DISPLAY_NAMES = {"_API_KEY_USER_": "_api", "_TRUSTED_USER_": "_trusted"}


def display_name(user: dict[str, object] | None) -> str | None:
    if user is None:
        return None
    name = str(user.get("username", ""))
    return _DISPLAY_NAMES.get(name, name)
