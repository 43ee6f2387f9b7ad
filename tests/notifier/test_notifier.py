"""[notifier NAME] through the real Apprise library: its `json://` service posts to a small
HTTP server here, with a webcam snapshot attached; a service that hangs never holds up the
printer."""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
import tornado.httpserver
import tornado.netutil
import tornado.web

from tests.harness import running_server, wait_for
from tests.printer.conftest import FAST_PRINTER, printer_of, write_gcode

SNAPSHOT = b"\xff\xd8\xff\xe0 a tiny jpeg \xff\xd9"


class Received:
    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self.hang = asyncio.Event()


class PostHandler(tornado.web.RequestHandler):
    def initialize(self, received: Received) -> None:  # type: ignore[override]
        self.received = received

    async def post(self, path: str) -> None:
        if path == "hang":
            await self.received.hang.wait()
        self.received.posts.append({"path": path, **msgspec.json.decode(self.request.body)})
        self.finish("ok")


class SnapshotHandler(tornado.web.RequestHandler):
    def get(self) -> None:
        self.set_header("Content-Type", "image/jpeg")
        self.finish(SNAPSHOT)


@contextlib.asynccontextmanager
async def receiver() -> AsyncIterator[tuple[Received, int]]:
    received = Received()
    app = tornado.web.Application([
        (r"/notify/(\w+)", PostHandler, {"received": received}),
        (r"/webcam/snapshot.jpg", SnapshotHandler),
    ])
    server = tornado.httpserver.HTTPServer(app)
    sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
    server.add_sockets(sockets)
    try:
        yield received, sockets[0].getsockname()[1]
    finally:
        received.hang.set()
        server.stop()
        await server.close_all_connections()


def config(port: int) -> str:
    return FAST_PRINTER + f"""
[notifier phone]
url: json://127.0.0.1:{port}/notify/phone
events: started, complete, cancelled
title: {{event_name}}
body: Print {{event_name}}: {{event_args[1].filename}} ({{event_args[1].state}})
attach: http://127.0.0.1:{port}/webcam/snapshot.jpg

[notifier macros]
url: json://127.0.0.1:{port}/notify/macros
events: gcode
body: {{event_message}}
body_format: markdown

[notifier stuck]
url: json://127.0.0.1:{port}/notify/hang
events: *
"""


async def test_print_events_and_notify_commands_reach_the_services(tmp_path: Path) -> None:
    async with receiver() as (received, port), running_server(tmp_path, config(port)) as srv:
        printer = printer_of(srv)
        await wait_for(lambda: printer.state == "ready", what="printer ready")
        ws = await srv.websocket()
        assert "notifier" in (await ws.call("server.info"))["components"]
        listed = await ws.call("server.notifiers.list")
        phone = listed["notifiers"][0]
        assert phone["name"] == "phone" and phone["events"] == ["started", "complete",
                                                                "cancelled"]
        # the URL's credentials are not shown
        assert phone["url"] == "json://…"
        write_gcode(srv, "cube.gcode", ["G28", "G1 X10 Y10 F3000", "G1 X20 Y20"])
        await ws.call("printer.print.start", {"filename": "cube.gcode"})
        await wait_for(lambda: len([p for p in received.posts if p["path"] == "phone"]) == 2,
                       what="started and complete")
        started, complete = [p for p in received.posts if p["path"] == "phone"]
        assert started["title"] == "started"
        assert started["message"] == "Print started: cube.gcode (printing)"
        assert complete["title"] == "complete"
        assert complete["message"] == "Print complete: cube.gcode (complete)"
        [attachment] = complete["attachments"]
        assert base64.b64decode(attachment["base64"]) == SNAPSHOT
        assert attachment["mimetype"] == "image/jpeg"
        # the console (or a macro) notifies the "gcode" notifiers, or the one named
        await ws.call("printer.gcode.script", {"script": "NOTIFY MESSAGE=Filament_low"})
        await ws.call("printer.gcode.script",
                      {"script": "NOTIFY NAME=phone MESSAGE=hello"})
        await wait_for(lambda: any(p["path"] == "macros" for p in received.posts),
                       what="macro notification")
        macro = next(p for p in received.posts if p["path"] == "macros")
        assert macro["message"] == "Filament_low"
        reply = await ws.request("printer.gcode.script",
                                 {"script": "NOTIFY NAME=nobody MESSAGE=x"})
        assert "no notifier named nobody" in reply["error"]["message"]
        # the stuck service got nothing through, and held up nobody
        assert not any(p["path"] == "hang" for p in received.posts)
        component: Any = srv.server.components["notifier"]
        assert component.notifiers["phone"].sent >= 2


async def test_a_service_that_never_answers_does_not_hold_up_the_printer(
    tmp_path: Path,
) -> None:
    async with receiver() as (_received, port), running_server(tmp_path, config(port)) as srv:
        printer = printer_of(srv)
        await wait_for(lambda: printer.state == "ready", what="printer ready")
        ws = await srv.websocket()
        write_gcode(srv, "quick.gcode", ["G28", "G1 X5 F3000"])
        loop = asyncio.get_running_loop()
        for _ in range(3):
            began = loop.time()
            await ws.call("printer.print.start", {"filename": "quick.gcode"})
            await ws.wait_notification(
                "notify_history_changed", lambda n: n["params"][0]["action"] == "finished")
            ws.notifications.clear()
            assert loop.time() - began < 10
        # the stuck notifier is still waiting on its first message; the others went out
        component: Any = srv.server.components["notifier"]
        assert component.notifiers["stuck"].sent == 0
        await wait_for(lambda: component.notifiers["phone"].sent >= 6, what="phone")


@pytest.mark.parametrize(("text", "message"), [
    ("events: *", "option 'url'"),
    ("url: json://x", "option 'events'"),
    ("url: json://x\nevents: exploded", "unknown event 'exploded'"),
    ("url: json://x\nevents: *\nbody_format: rtf", "option 'body_format'"),
])
def test_bad_options_name_the_option(text: str, message: str) -> None:
    from components.notifier.config import NotifierSection
    from gateway.config import Config, ConfigError

    with pytest.raises(ConfigError, match=message):
        Config.from_string("[notifier n]\n" + text).section("notifier n", NotifierSection)


def test_the_example_documents_every_option() -> None:
    from components.notifier.config import NotifierSection
    from tests.config_example import commented_config

    config = commented_config("notifier phone")
    assert set(config.raw("notifier phone")) == set(NotifierSection.__struct_fields__)
    assert config.section("notifier phone", NotifierSection).events[1] == "complete"
