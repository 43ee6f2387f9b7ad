"""The printer status model and the subscription push, without a printer."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
import pytest

from components.printer.status import StatusModel
from components.printer.subscriptions import SubscriptionHub
from gateway.transports.connection import Connection


class RecordingConnection(Connection):
    def __init__(self) -> None:
        super().__init__("127.0.0.1")
        self.frames: list[Any] = []

    def send_bytes(self, data: bytes) -> None:
        self.frames.append(msgspec.json.decode(data))

    def close(self, code: int, reason: str) -> None:
        pass


def model() -> StatusModel:
    m = StatusModel()
    m.add_object("extruder", {"temperature": 20.0, "target": 0.0, "power": 0.0})
    m.add_object("print_stats", {"state": "standby", "filename": ""})
    m.take_changes()
    return m


def test_only_real_changes_are_recorded() -> None:
    m = model()
    assert m.update("extruder", {"temperature": 20.0}) is False
    assert m.update("extruder", {"temperature": 21.5, "target": 0.0}) is True
    assert m.take_changes() == {"extruder": {"temperature": 21.5}}
    assert m.take_changes() == {}


def test_lists_compare_by_value() -> None:
    m = StatusModel()
    m.add_object("toolhead", {"position": [0.0, 0.0, 0.0, 0.0]})
    m.take_changes()
    assert m.update("toolhead", {"position": [0.0, 0.0, 0.0, 0.0]}) is False
    assert m.update("toolhead", {"position": [1.0, 0.0, 0.0, 0.0]}) is True


def test_query_leaves_out_unknown_objects_and_fields() -> None:
    m = model()
    assert m.query({"extruder": ["temperature", "nope"], "missing": None}) == {
        "extruder": {"temperature": 20.0}
    }
    assert m.query({"print_stats": None}) == {"print_stats": {"state": "standby", "filename": ""}}


def test_query_returns_copies() -> None:
    m = StatusModel()
    m.add_object("toolhead", {"position": [0.0, 0.0]})
    got = m.query({"toolhead": None})
    got["toolhead"]["position"][0] = 99.0
    assert m.get("toolhead", "position") == [0.0, 0.0]


def test_update_of_unknown_object_is_an_error() -> None:
    with pytest.raises(KeyError):
        model().update("nope", {"x": 1})


async def test_push_sends_only_subscribed_changed_fields_with_increasing_eventtime() -> None:
    m = model()
    hub = SubscriptionHub(m)
    all_fields = RecordingConnection()
    temp_only = RecordingConnection()
    hub.subscribe(all_fields, {"extruder": None, "print_stats": None})
    hub.subscribe(temp_only, {"extruder": ["temperature"]})
    m.update("extruder", {"temperature": 30.0, "power": 0.5})
    m.update("print_stats", {"state": "printing"})
    hub.flush()
    m.update("extruder", {"target": 200.0})
    hub.flush()
    first, second = all_fields.frames
    assert first["method"] == "notify_status_update"
    assert first["params"][0] == {"extruder": {"temperature": 30.0, "power": 0.5},
                                  "print_stats": {"state": "printing"}}
    assert second["params"][0] == {"extruder": {"target": 200.0}}
    assert second["params"][1] > first["params"][1]
    assert [f["params"][0] for f in temp_only.frames] == [{"extruder": {"temperature": 30.0}}]


async def test_changes_in_one_burst_leave_as_one_notification() -> None:
    m = model()
    hub = SubscriptionHub(m)
    conn = RecordingConnection()
    hub.subscribe(conn, {"extruder": None})
    for t in (21.0, 22.0, 23.0):
        m.update("extruder", {"temperature": t})
        hub.changed()
    deadline = asyncio.get_running_loop().time() + 5
    while not conn.frames:
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.005)
    assert len(conn.frames) == 1
    assert conn.frames[0]["params"][0] == {"extruder": {"temperature": 23.0}}


def test_resubscribing_replaces_the_subscription() -> None:
    m = model()
    hub = SubscriptionHub(m)
    conn = RecordingConnection()
    hub.subscribe(conn, {"extruder": None})
    hub.subscribe(conn, {"print_stats": None})
    m.update("extruder", {"temperature": 50.0})
    hub.flush()
    assert conn.frames == []
    hub.unsubscribe(conn)
    assert hub.count == 0
