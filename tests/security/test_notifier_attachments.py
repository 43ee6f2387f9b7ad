"""Issue 17.1 for notifications: an attachment is a file the server reads and sends to
a service of the config's choosing, so it may only come from the data directory (not its
database or backups) unless the host policy file allows more - also when a template
makes the path up at run time."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.harness import running_server, wait_for
from tests.notifier.test_notifier import receiver
from tests.printer.conftest import FAST_PRINTER, printer_of

PNG = b"\x89PNG\r\n\x1a\n a picture"


def config(port: int) -> str:
    return FAST_PRINTER + f"""
[notifier leak]
url: json://127.0.0.1:{port}/notify/leak
events: gcode
body: {{event_message}}
attach: {{event_message}}
"""


async def test_an_attachment_from_outside_the_data_directory_is_left_out(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="components.notifier.delivery")
    data = tmp_path / "data"
    async with receiver() as (received, port), running_server(data, config(port)) as srv:
        printer = printer_of(srv)
        await wait_for(lambda: printer.state == "ready", what="printer ready")
        ws = await srv.websocket()
        secret = data / "database" / "skysail.sqlite"
        for path in ("/etc/hostname", str(secret)):
            await ws.call("printer.gcode.script", {"script": f"NOTIFY MESSAGE={path}"})
        picture = data / "gcodes" / "pic.png"
        picture.write_bytes(PNG)
        await ws.call("printer.gcode.script", {"script": f"NOTIFY MESSAGE={picture}"})
        await wait_for(lambda: len(received.posts) == 3, what="three notifications")
    leaked = [p for p in received.posts if p["message"] != str(picture)]
    assert all(not p.get("attachments") for p in leaked), leaked
    [sent] = [p for p in received.posts if p["message"] == str(picture)]
    assert len(sent["attachments"]) == 1
    refused = [r.getMessage() for r in caplog.records if "attachment refused" in r.getMessage()]
    assert len(refused) == 2 and "/etc/hostname" in refused[0]
