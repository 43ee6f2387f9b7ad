"""What every updater (Skysail itself, a web client, system packages) offers the update
manager."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

# one progress line for notify_update_response
Report = Callable[[str], None]


class UpdateError(Exception):
    """An update step failed; the message is shown to the user as is."""


class Updater(Protocol):
    name: str
    configured_type: str
    last_refresh: float
    # set by an operation that needs Skysail to start again as another program
    restart_argv: list[str] | None

    async def initialize(self) -> None:
        """Local state only (no network): installed versions, cached remote state."""

    async def refresh(self) -> None:
        """Ask the remote (git fetch, release feed, apt) what is available."""

    def status(self) -> dict[str, Any]:
        """This updater's entry of machine.update.status's version_info."""

    async def upgrade(self, report: Report) -> None: ...

    async def rollback(self, report: Report) -> None: ...
