"""server.announcements.*: configured feeds, no network, dismissals kept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from components.announcements.api import AnnouncementsApi
from tests.harness import RpcError, RunningServer, running_server

from .conftest import CONFIG, wait_for

ENTRY_FIELDS = [
    "entry_id", "url", "title", "description", "priority", "date", "dismissed",
    "date_dismissed", "dismiss_wake", "source", "feed",
]


def component(srv: RunningServer) -> AnnouncementsApi:
    """The interface other components use."""
    return srv.server.lookup(AnnouncementsApi)


def notes(ws: Any, method: str) -> list[dict[str, Any]]:
    return [n["params"][0] for n in ws.notifications if n["method"] == method]


async def test_default_answers_as_moonraker(srv: RunningServer) -> None:
    ws = await srv.websocket()
    listed = await ws.call("server.announcements.list", {"include_dismissed": False})
    assert listed == {"entries": [], "feeds": ["moonraker", "klipper"]}
    reply = await srv.http.get("/server/announcements/list")
    assert reply.json() == {"result": {"entries": [], "feeds": ["moonraker", "klipper"]}}
    assert await ws.call("server.announcements.feeds") == {"feeds": ["moonraker", "klipper"]}
    updated = await srv.http.post("/server/announcements/update")
    assert updated.json()["result"] == {"entries": [], "modified": False}
    with pytest.raises(RpcError) as err:
        await ws.call("server.announcements.update", {"subscriptions": ["nope"]})
    assert (err.value.code, err.value.message) == (400, "No subscription for nope")
    with pytest.raises(RpcError) as err:
        await ws.call("server.announcements.dismiss", {"entry_id": "x/1"})
    assert (err.value.code, err.value.message) == (400, "No key matching entry id: x/1")
    info = (await ws.call("server.info"))["components"]
    assert "announcements" in info


async def test_feeds_configured_and_added(tmp_path: Path) -> None:
    config = CONFIG + "\n[announcements]\nsubscriptions: Mainsail, fluidd\n"
    async with running_server(tmp_path, config) as srv:
        ws = await srv.websocket()
        expected = ["moonraker", "klipper", "mainsail", "fluidd"]
        assert (await ws.call("server.announcements.feeds"))["feeds"] == expected
        added = await ws.call("server.announcements.post_feed", {"name": "Extra"})
        assert added == {"feed": "extra", "action": "added"}
        again = await srv.http.post("/server/announcements/feed", json={"name": "extra"})
        assert again.json()["result"] == {"feed": "extra", "action": "skipped"}
        with pytest.raises(RpcError) as err:
            await ws.call("server.announcements.delete_feed", {"name": "fluidd"})
        assert err.value.message == "Feed 'fluidd' exists in the configuration, cannot remove"
        with pytest.raises(RpcError) as err:
            await ws.call("server.announcements.delete_feed", {"name": "other"})
        assert err.value.message == "Feed 'other' not stored"
    async with running_server(tmp_path, config) as srv:
        ws = await srv.websocket()
        feeds = (await ws.call("server.announcements.list"))["feeds"]
        assert feeds == [*expected, "extra"]
        reply = await srv.http.delete("/server/announcements/feed?name=extra")
        assert reply.json()["result"] == {"feed": "extra", "action": "removed"}
    async with running_server(tmp_path, config) as srv:
        assert (await srv.http.get("/server/announcements/feeds")).json()["result"] == {
            "feeds": expected}


async def test_internal_entry_dismissed_and_kept(tmp_path: Path) -> None:
    async with running_server(tmp_path, CONFIG) as srv:
        ws = await srv.websocket()
        entry = await component(srv).add_announcement(
            "Firmware", "Update your firmware", "https://example.invalid/fw", "high")
        assert list(entry) == ENTRY_FIELDS
        assert entry["source"] == "internal" and entry["feed"] == "skysail"
        await wait_for(lambda: bool(notes(ws, "notify_announcement_update")))
        assert notes(ws, "notify_announcement_update")[0] == {"entries": [entry]}
        later = await component(srv).add_announcement("Second", "two")
        assert later["entry_id"] != entry["entry_id"]
        listed = (await ws.call("server.announcements.list"))["entries"]
        assert [e["title"] for e in listed] == ["Second", "Firmware"]  # newest first

        reply = await srv.http.post(
            "/server/announcements/dismiss", json={"entry_id": entry["entry_id"]})
        assert reply.json()["result"] == {"entry_id": entry["entry_id"]}
        await wait_for(lambda: bool(notes(ws, "notify_announcement_dismissed")))
        assert notes(ws, "notify_announcement_dismissed") == [{"entry_id": entry["entry_id"]}]

    async with running_server(tmp_path, CONFIG) as srv:
        ws = await srv.websocket()
        everything = (await ws.call("server.announcements.list"))["entries"]
        first = next(e for e in everything if e["entry_id"] == entry["entry_id"])
        assert first["dismissed"] is True and first["date_dismissed"] is not None
        assert first["dismiss_wake"] is None
        shown = await ws.call("server.announcements.list", {"include_dismissed": False})
        assert [e["title"] for e in shown["entries"]] == ["Second"]
        assert await component(srv).remove_announcement(later["entry_id"]) is True
        assert (await ws.call("server.announcements.update"))["entries"] == [first]


async def test_dismissal_wakes_up(srv: RunningServer) -> None:
    ws = await srv.websocket()
    entry = await component(srv).add_announcement("Wake", "me")
    await ws.call("server.announcements.dismiss", {"entry_id": entry["entry_id"], "wake_time": 1})
    dismissed = (await ws.call("server.announcements.list"))["entries"][0]
    assert dismissed["dismissed"] is True
    assert dismissed["dismiss_wake"] == pytest.approx(dismissed["date_dismissed"] + 1)
    await ws.wait_notification("notify_announcement_wake", timeout=20)
    assert notes(ws, "notify_announcement_wake") == [{"entry_id": entry["entry_id"]}]
    woken = (await ws.call("server.announcements.list"))["entries"][0]
    assert (woken["dismissed"], woken["date_dismissed"], woken["dismiss_wake"]) == (
        False, None, None)


async def test_wake_times_survive_a_restart(tmp_path: Path) -> None:
    async with running_server(tmp_path, CONFIG) as srv:
        ws = await srv.websocket()
        soon = await component(srv).add_announcement("Soon", "wakes within the slack")
        late = await component(srv).add_announcement("Late", "wakes in an hour")
        await ws.call(
            "server.announcements.dismiss", {"entry_id": soon["entry_id"], "wake_time": 5})
        await ws.call(
            "server.announcements.dismiss", {"entry_id": late["entry_id"], "wake_time": 3600})
    async with running_server(tmp_path, CONFIG) as srv:
        ws = await srv.websocket()
        entries = {e["title"]: e for e in (await ws.call("server.announcements.list"))["entries"]}
        # a wake time (nearly) due at start-up wakes at once, a later one stays armed
        assert entries["Soon"]["dismissed"] is False and entries["Soon"]["dismiss_wake"] is None
        assert entries["Late"]["dismissed"] is True
        assert late["entry_id"] in component(srv)._wake_handles
