"""Defects found by reading the code (issue 18), each pinned by a test: the G-code store's
count, routes registered twice, and status pushed to a socket that lost its trust."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import pytest
import tornado.web

from components.printer.status import StatusModel
from components.printer.subscriptions import SubscriptionHub
from gateway.registry import DuplicateRoute
from gateway.transports.connection import Connection
from gateway.transports.http import BaseHandler
from tests.harness import running_server


class RecordingConnection(Connection):
    def __init__(self) -> None:
        super().__init__("127.0.0.1")
        self.frames: list[Any] = []

    def send_bytes(self, data: bytes) -> None:
        self.frames.append(msgspec.json.decode(data))

    def close(self, code: int, reason: str) -> None:
        pass


async def test_gcode_store_count_larger_than_the_store_gives_everything(
    tmp_path: Path,
) -> None:
    async with running_server(tmp_path) as srv:
        store: Any = srv.server.components["gcode_store"]
        for n in range(5):
            store.entries.append({"message": f"G1 X{n}", "time": float(n), "type": "command"})
        ws = await srv.websocket()
        for count, expected in ((3, ["G1 X2", "G1 X3", "G1 X4"]), (5, 5), (6, 5), (1000, 5),
                                (0, 0)):
            got = (await ws.call("server.gcode_store", {"count": count}))["gcode_store"]
            if isinstance(expected, list):
                assert [e["message"] for e in got] == expected
            else:
                assert len(got) == expected, count
        reply = await srv.http.get("/server/gcode_store?count=-1")
        assert reply.status == 400 and "count" in reply.json()["error"]["message"]


async def test_an_http_route_registered_twice_is_refused_at_start_up(tmp_path: Path) -> None:
    async with running_server(tmp_path) as srv:
        server = srv.server
        with pytest.raises(DuplicateRoute):
            server.register_endpoint("test.info_again", lambda r: 1, http="GET /server/info")
        server.add_http_route(r"/test/plain", BaseHandler)
        with pytest.raises(DuplicateRoute):
            server.add_http_route(r"/test/plain", tornado.web.RequestHandler)
        # the first registration still answers
        assert (await srv.http.get("/server/info")).status == 200


def test_status_is_not_pushed_to_a_socket_that_lost_its_trust() -> None:
    model = StatusModel()
    model.add_object("extruder", {"temperature": 20.0})
    model.take_changes()
    hub = SubscriptionHub(model)
    kept, distrusted = RecordingConnection(), RecordingConnection()
    hub.subscribe(kept, {"extruder": None})
    hub.subscribe(distrusted, {"extruder": None})
    model.update("extruder", {"temperature": 21.0})
    hub.flush()
    assert len(kept.frames) == len(distrusted.frames) == 1
    # a bad token on identify (or a revoked user) takes the trust away
    distrusted.trusted = False
    distrusted.user = None
    model.update("extruder", {"temperature": 22.0})
    hub.flush()
    assert len(kept.frames) == 2
    assert len(distrusted.frames) == 1
    assert hub.count == 1
    # authenticated again: it must subscribe again to get updates
    distrusted.user = {"username": "alice"}
    model.update("extruder", {"temperature": 23.0})
    hub.flush()
    assert len(distrusted.frames) == 1
