"""What other components may rely on from the announcements component:
`server.find(AnnouncementsApi)` to show a message of their own in the frontends."""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class AnnouncementsApi(Protocol):
    async def add_announcement(self, title: str, description: str, url: str = "",
                               priority: str = "normal",
                               feed: str = "skysail") -> dict[str, object]:
        """Publish an entry (source "internal"; priority "normal" or "high"): returns it
        as server.announcements.list shows it, with its `entry_id`."""

    async def remove_announcement(self, entry_id: str) -> bool:
        """Withdraw an entry; False if there is no such entry."""
