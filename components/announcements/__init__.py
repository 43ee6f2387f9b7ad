"""The announcements component (Moonraker's "announcements"): server.announcements.list/
update/dismiss/feeds/post_feed/delete_feed, answering with what is configured and
fetching nothing from the network. Empty by default.

Other components publish their own entries through api.py (AnnouncementsApi).

Events: none consumed or emitted.

Websocket notifications: notify_announcement_update, notify_announcement_dismissed,
notify_announcement_wake.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gateway.component import ComponentSpec

from .api import AnnouncementsApi
from .component import Announcements, AnnouncementsSection

if TYPE_CHECKING:
    from gateway.api import ServerApi

__all__ = ["COMPONENT", "Announcements", "AnnouncementsSection", "load_component"]


def load_component(server: ServerApi) -> Announcements:
    return Announcements(server)


COMPONENT = ComponentSpec(load_component, always=True, provides=(AnnouncementsApi,))
