"""Issue 17.9: only \\n and \\r\\n separate G-code lines; other control characters are
refused before anything reaches the printer; OctoPrint's single `command` is one line;
upload names hold no control characters."""

from __future__ import annotations

import pytest

from gateway.errors import InvalidParams
from gateway.gcode_text import check_name, script_lines, single_line
from tests.harness import RunningServer, Websocket
from tests.printer.conftest import virtual_of
from tests.security.conftest import fetch_from, key_headers, multipart

# each of these would have split "M117 hi<sep>M104 S250" into two commands
SMUGGLERS = ["\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\r",
             "\x00", "\x1b", "\x7f"]


@pytest.mark.parametrize("sep", SMUGGLERS)
def test_script_lines_refuses_every_other_control_character(sep: str) -> None:
    with pytest.raises(InvalidParams) as info:
        script_lines(f"M117 hi{sep}M104 S250")
    assert "offset 7" in info.value.message
    assert info.value.rpc_code == -32602 and info.value.status == 400


def test_script_lines_split_on_newline_and_crlf_only() -> None:
    assert script_lines("G28\r\nG1 X1\n\tM400 ; tab is whitespace") == [
        "G28", "G1 X1", "\tM400 ; tab is whitespace"]


def test_single_line_refuses_any_line_break() -> None:
    assert single_line("M117 hello") == "M117 hello"
    for text in ("M117 a\nM104 S250", "M117 a\r\nM104 S250", "M117 a\u2028M104"):
        with pytest.raises(InvalidParams):
            single_line(text)


def test_check_name_refuses_control_characters() -> None:
    check_name("benchy v2 (final).gcode")
    for name in ("a\nb.gcode", "a\tb.gcode", "a\x1b[31m.gcode", "a\u2028.gcode"):
        with pytest.raises(InvalidParams):
            check_name(name)


def _sent_heater_command(srv: RunningServer) -> bool:
    return any(cmd.startswith("M104") for cmd in virtual_of(srv).executed)


async def test_gcode_script_with_unicode_line_separator_is_refused_over_http(
        srv: RunningServer) -> None:
    for sep in SMUGGLERS:
        reply = await fetch_from(srv, "/printer/gcode/script", method="POST",
                                 headers=key_headers(srv),
                                 json={"script": f"M117 hi{sep}M104 S250"})
        assert reply.status == 400, (sep, reply.body)
        assert "only \\n or \\r\\n may separate lines" in reply.json()["error"]["message"]
    assert not _sent_heater_command(srv)
    # ordinary scripts still run, \r\n included
    reply = await fetch_from(srv, "/printer/gcode/script", method="POST",
                             headers=key_headers(srv), json={"script": "M117 a\r\nM117 b"})
    assert reply.status == 200, reply.body
    assert "M117 b" in virtual_of(srv).executed


async def test_gcode_script_with_vertical_tab_is_refused_over_jsonrpc(
        srv: RunningServer) -> None:
    ws = await Websocket.connect(srv.ws_url + "?token=",
                                 headers=key_headers(srv))
    try:
        await ws.call("server.connection.identify", {
            "client_name": "t", "version": "1", "type": "web", "url": "x",
            "api_key": key_headers(srv)["X-Api-Key"]})
        reply = await ws.request("printer.gcode.script", {"script": "M117 a\x0bM104 S250"})
        assert reply["error"]["code"] == -32602
        assert "U+000B" in reply["error"]["message"]
    finally:
        await ws.close()
    assert not _sent_heater_command(srv)


async def test_octoprint_single_command_with_newline_is_refused(srv: RunningServer) -> None:
    reply = await fetch_from(srv, "/api/printer/command", method="POST",
                             headers=key_headers(srv),
                             json={"command": "M117 hello\nM104 S250"})
    assert reply.status == 400, reply.body
    assert "send several commands as a list" in reply.body.decode()
    reply = await fetch_from(srv, "/api/printer/command", method="POST",
                             headers=key_headers(srv),
                             json={"commands": ["M117 one", "M117 two\u2028M104 S250"]})
    assert reply.status == 400, reply.body
    assert not _sent_heater_command(srv)
    # the list is the way to send several
    reply = await fetch_from(srv, "/api/printer/command", method="POST",
                             headers=key_headers(srv),
                             json={"commands": ["M117 one", "M117 two"]})
    assert reply.status == 204, reply.body
    assert "M117 two" in virtual_of(srv).executed


@pytest.mark.parametrize("route", ["/server/files/upload", "/api/files/local"])
async def test_upload_filename_with_control_characters_is_refused(
        srv: RunningServer, route: str) -> None:
    gcodes = srv.server.data_dir / "gcodes"
    before = sorted(p.name for p in gcodes.iterdir())
    for name in ("evil\nM104 S250.gcode", "evil\x1b[2J.gcode", "evil\u2028.gcode"):
        body, headers = multipart({}, name, b"G28\n")
        reply = await fetch_from(srv, route, method="POST", body=body,
                                 headers={**headers, **key_headers(srv)})
        assert reply.status == 400, (name, reply.body)
        assert "control character" in reply.body.decode()
    assert sorted(p.name for p in gcodes.iterdir()) == before
    # a folder name too
    reply = await fetch_from(srv, "/server/files/directory", method="POST",
                             headers=key_headers(srv), json={"path": "gcodes/a\x07b"})
    assert reply.status == 400, reply.body
    assert sorted(p.name for p in gcodes.iterdir()) == before
