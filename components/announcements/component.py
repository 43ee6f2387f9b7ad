"""server.announcements.*: what is configured, nothing fetched.

Moonraker polls RSS feeds on the internet for its entries; we fetch nothing. Feeds are
the two defaults plus `[announcements] subscriptions` and feeds added through the API;
entries come from other components (`add_announcement`), so the list is empty unless
one of them has something to say. Dismissals (and their wake times) are kept in the
database.
"""

from __future__ import annotations

import asyncio
import datetime
import sqlite3
import time
from functools import partial
from typing import TYPE_CHECKING, Annotated

import msgspec
from msgspec import Meta

from components.announcements import store
from components.announcements.api import AnnouncementsApi
from gateway.component import BaseComponent
from gateway.errors import BadRequest
from gateway.registry import Params
from gateway.request import Request

if TYPE_CHECKING:
    from gateway.api import ServerApi

DEFAULT_FEEDS = ("moonraker", "klipper")
# a dismissal waking within this many seconds of start-up wakes at once (as Moonraker)
WAKE_SLACK = 10.0
PRIORITIES = ("normal", "high")


class ListArgs(Params):
    include_dismissed: bool = True


class UpdateArgs(Params):
    # the feeds to refresh; absent: all of them
    subscriptions: list[str] | None = None


class DismissArgs(Params):
    entry_id: Annotated[str, Meta(min_length=1)]
    # seconds until the entry shows again (at most a year)
    wake_time: Annotated[int, Meta(ge=0, le=366 * 86400)] | None = None


class FeedArgs(Params):
    name: Annotated[str, Meta(min_length=1, max_length=128)]


class AnnouncementsSection(msgspec.Struct, kw_only=True):
    # extra feed names listed besides moonraker and klipper (nothing is fetched)
    subscriptions: list[str] = msgspec.field(default_factory=list)
    # accepted for moonraker.conf compatibility; no effect (no remote feeds)
    dev_mode: bool = False
    enable_moonlight: bool = True


class Announcements(BaseComponent, AnnouncementsApi):
    moonraker_names = ("announcements",)

    def __init__(self, server: ServerApi) -> None:
        self.server = server
        self.db = server.database
        cfg = server.config.section("announcements", AnnouncementsSection)
        self.configured_feeds = list(DEFAULT_FEEDS)
        for name in (s.lower() for s in cfg.subscriptions):
            if name not in self.configured_feeds:
                self.configured_feeds.append(name)
        self.stored_feeds: list[str] = []
        self.entries: dict[str, dict[str, object]] = {}
        self._wake_handles: dict[str, asyncio.TimerHandle] = {}
        self._lock = asyncio.Lock()
        reg = server.register_endpoint
        reg("server.announcements.list", self.list_entries, params=ListArgs,
            http="GET /server/announcements/list")
        reg("server.announcements.update", self.update, params=UpdateArgs,
            http="POST /server/announcements/update")
        reg("server.announcements.dismiss", self.dismiss, params=DismissArgs,
            http="POST /server/announcements/dismiss")
        reg("server.announcements.feeds", self.list_feeds,
            http="GET /server/announcements/feeds")
        server.registry.register_rest(
            "server.announcements.feed",
            "/server/announcements/feed",
            {"POST": self.post_feed, "DELETE": self.delete_feed},
            params={"POST": FeedArgs, "DELETE": FeedArgs},
        )

    async def start(self) -> None:
        entries, feeds = await self.db.run(store.setup)
        self.stored_feeds = [f for f in feeds if f not in self.configured_feeds]
        now = time.time()
        for entry in entries:
            self.entries[str(entry["entry_id"])] = entry
            wake = entry.get("dismiss_wake")
            if not entry.get("dismissed") or not isinstance(wake, (int, float)):
                continue
            if wake - now < WAKE_SLACK:
                _undismiss(entry)
                await self.db.run(partial(store.save_entry, entry=entry))
            else:
                self._arm_wake(str(entry["entry_id"]), wake - now)

    async def stop(self) -> None:
        for handle in self._wake_handles.values():
            handle.cancel()
        self._wake_handles.clear()

    # -- for other components ----------------------------------------------------------

    async def add_announcement(
        self,
        title: str,
        description: str,
        url: str = "",
        priority: str = "normal",
        feed: str = "skysail",
    ) -> dict[str, object]:
        """Publish an entry of our own (source "internal"); returns it."""
        if priority not in PRIORITIES:
            raise ValueError(f"priority must be one of {PRIORITIES}")
        async with self._lock:
            date = datetime.datetime.now(datetime.UTC)
            base = f"{feed}/{date.replace(tzinfo=None).isoformat(timespec='seconds')}"
            entry_id, n = base, 1
            while entry_id in self.entries:
                n += 1
                entry_id = f"{base}-{n}"
            entry: dict[str, object] = {
                "entry_id": entry_id,
                "url": url,
                "title": title,
                "description": description,
                "priority": priority,
                "date": date.timestamp(),
                "dismissed": False,
                "date_dismissed": None,
                "dismiss_wake": None,
                "source": "internal",
                "feed": feed,
            }
            await self.db.run(lambda c: store.save_entry(c, entry))
            self.entries[entry_id] = entry
        self._notify_entries()
        return dict(entry)

    async def remove_announcement(self, entry_id: str) -> bool:
        async with self._lock:
            if entry_id not in self.entries:
                return False
            await self.db.run(lambda c: store.delete_entries(c, [entry_id]))
            del self.entries[entry_id]
            self._cancel_wake(entry_id)
        self._notify_entries()
        return True

    # -- endpoints ---------------------------------------------------------------------

    @property
    def feeds(self) -> list[str]:
        return [*self.configured_feeds, *self.stored_feeds]

    def _sorted(self, include_dismissed: bool = True) -> list[dict[str, object]]:
        entries = sorted(self.entries.values(), key=_date, reverse=True)
        if not include_dismissed:
            entries = [e for e in entries if not e["dismissed"]]
        return [dict(e) for e in entries]

    def list_entries(self, args: ListArgs, request: Request) -> dict[str, object]:
        return {"entries": self._sorted(args.include_dismissed), "feeds": self.feeds}

    def update(self, args: UpdateArgs, request: Request) -> dict[str, object]:
        wanted = self.feeds if args.subscriptions is None else args.subscriptions
        for name in wanted:
            if name not in self.feeds:
                raise BadRequest(f"No subscription for {name}")
        # nothing to fetch: the entries are what we already have
        return {"entries": self._sorted(), "modified": False}

    def list_feeds(self, request: Request) -> dict[str, object]:
        return {"feeds": self.feeds}

    async def dismiss(self, args: DismissArgs, request: Request) -> dict[str, object]:
        entry_id = args.entry_id
        wake_time = args.wake_time
        async with self._lock:
            entry = self.entries.get(entry_id)
            if entry is None:
                raise BadRequest(f"No key matching entry id: {entry_id}")
            if entry["dismissed"]:
                return {"entry_id": entry_id}
            now = time.time()
            changed = dict(entry, dismissed=True, date_dismissed=now)
            if wake_time is not None:
                changed["dismiss_wake"] = now + wake_time
            await self.db.run(lambda c: store.save_entry(c, changed))
            self.entries[entry_id] = changed
            if wake_time is not None:
                self._arm_wake(entry_id, float(wake_time))
        # after the answer, as Moonraker
        asyncio.get_running_loop().call_soon(
            self.server.send_notification,
            "notify_announcement_dismissed",
            [{"entry_id": entry_id}],
        )
        return {"entry_id": entry_id}

    async def post_feed(self, args: FeedArgs, request: Request) -> dict[str, object]:
        name = args.name.lower()
        async with self._lock:
            if name in self.feeds:
                return {"feed": name, "action": "skipped"}
            await self.db.run(lambda c: store.add_feed(c, name))
            self.stored_feeds.append(name)
        return {"feed": name, "action": "added"}

    async def delete_feed(self, args: FeedArgs, request: Request) -> dict[str, object]:
        name = args.name.lower()
        async with self._lock:
            if name in self.configured_feeds:
                raise BadRequest(f"Feed '{name}' exists in the configuration, cannot remove")
            if name not in self.stored_feeds:
                raise BadRequest(f"Feed '{name}' not stored")
            pruned = [k for k, e in self.entries.items() if str(e.get("feed")).lower() == name]

            def change(conn: sqlite3.Connection) -> None:
                store.remove_feed(conn, name)
                if pruned:
                    store.delete_entries(conn, pruned)

            await self.db.run(change)
            self.stored_feeds.remove(name)
            for entry_id in pruned:
                del self.entries[entry_id]
                self._cancel_wake(entry_id)
        if pruned:
            self._notify_entries()
        return {"feed": name, "action": "removed"}

    # -- helpers -----------------------------------------------------------------------

    def _notify_entries(self) -> None:
        self.server.send_notification(
            "notify_announcement_update", [{"entries": self._sorted()}]
        )

    def _arm_wake(self, entry_id: str, delay: float) -> None:
        self._cancel_wake(entry_id)
        loop = asyncio.get_running_loop()
        self._wake_handles[entry_id] = loop.call_later(
            max(0.0, delay), lambda: asyncio.ensure_future(self._wake(entry_id))
        )

    def _cancel_wake(self, entry_id: str) -> None:
        handle = self._wake_handles.pop(entry_id, None)
        if handle is not None:
            handle.cancel()

    async def _wake(self, entry_id: str) -> None:
        self._wake_handles.pop(entry_id, None)
        async with self._lock:
            entry = self.entries.get(entry_id)
            if entry is None or not entry["dismissed"]:
                return
            woken = dict(entry)
            _undismiss(woken)
            await self.db.run(lambda c: store.save_entry(c, woken))
            self.entries[entry_id] = woken
        self.server.send_notification(
            "notify_announcement_wake", [{"entry_id": entry_id}]
        )


def _undismiss(entry: dict[str, object]) -> None:
    entry["dismissed"] = False
    entry["date_dismissed"] = None
    entry["dismiss_wake"] = None


def _date(entry: dict[str, object]) -> float:
    date = entry.get("date")
    return float(date) if isinstance(date, int | float) else 0.0
