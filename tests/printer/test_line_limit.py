"""Lines longer than the firmware's line buffer (Marlin MAX_CMD_SIZE, 96 by default):
refused before anything runs, never allowed to wedge the link; print files are refused
at start or made to fit."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.printer import line_fit
from components.printer.line_fit import LineTooLong, fit_print_line
from tests.harness import RunningServer, running_server
from tests.printer.conftest import FAST_PRINTER, printer_of, virtual_of, wait_until, write_gcode

LONG_MESSAGE = "M117 " + "a" * 100
LIMIT = "at most 79 ([serial] max_command_size 96"


async def script_answer(live: RunningServer, script: str, http: bool) -> tuple[int, str]:
    if http:
        reply = await live.http.post("/printer/gcode/script", json={"script": script})
        body = reply.json()
        return reply.status, body["error"]["message"] if reply.status != 200 else ""
    ws = await live.websocket()
    answer = await ws.request("printer.gcode.script", {"script": script})
    return (answer["error"]["code"], answer["error"]["message"]) if "error" in answer else (0, "")


async def still_usable(live: RunningServer) -> None:
    vp = virtual_of(live)
    printer = printer_of(live)
    assert printer.state == "ready"
    await printer.run_gcode("M117 still here\nG28 X")
    assert vp.executed[-2:] == ["M117 still here", "G28 X"]
    reply = await live.http.get("/printer/objects/query?print_stats")
    assert reply.status == 200


@pytest.mark.parametrize("http", [False, True], ids=["websocket", "http"])
async def test_an_over_long_line_is_refused_naming_the_limit_and_the_printer_stays_usable(
    live: RunningServer, http: bool
) -> None:
    vp = virtual_of(live)
    mark = len(vp.executed)
    code, message = await script_answer(live, LONG_MESSAGE, http)
    assert code == (400 if http else -32602)
    assert message.startswith("G-code line too long for the firmware: 105 bytes, " + LIMIT)
    assert vp.executed[mark:] == []
    await still_usable(live)


async def test_an_over_long_line_anywhere_refuses_the_whole_script_before_it_runs(
    live: RunningServer,
) -> None:
    vp = virtual_of(live)
    mark = len(vp.executed)
    long_move = "G1 " + " ".join(f"X{i}.000000" for i in range(12))
    code, message = await script_answer(live, f"G91\n{long_move}\nG90", http=False)
    assert code == -32602
    assert LIMIT in message and message.endswith("(script line 2)")
    assert vp.executed[mark:] == []  # not even the G91 before it
    await still_usable(live)


async def test_a_line_that_just_fits_is_sent_whole(live: RunningServer) -> None:
    vp = virtual_of(live)
    fits = "M117 " + "b" * 74  # 79 bytes: the room with a 10-digit line number
    assert (await script_answer(live, fits, http=False)) == (0, "")
    assert vp.executed[-1] == fits
    code, message = await script_answer(live, fits + "b", http=True)
    assert code == 400 and "80 bytes" in message


async def test_the_firmware_interface_refuses_an_over_long_line_too(
    live: RunningServer,
) -> None:
    # send_firmware goes past the console: the link itself never sends such a line
    printer = printer_of(live)
    with pytest.raises(Exception, match="too long for the firmware"):
        await printer.send_firmware(LONG_MESSAGE)
    await still_usable(live)


@pytest.mark.allow_error_logs
async def test_a_line_the_firmware_keeps_refusing_is_dropped_and_the_link_goes_on(
    tmp_path: Path,
) -> None:
    # A firmware built with a smaller MAX_CMD_SIZE than [serial] says: it cuts the line,
    # the checksum fails every time. After max_resends_per_line the line is given up
    # (an M105 takes its number); the script fails, the link stays ready.
    config = FAST_PRINTER + "max_resends_per_line: 3\nvirtual_max_command_size: 48\n"
    async with running_server(tmp_path, config) as srv:
        printer = printer_of(srv)
        await wait_until(printer.core.settled.is_set, what="the connect queries answered")
        vp = virtual_of(srv)
        mark = len(vp.executed)
        code, message = await script_answer(srv, "M117 " + "c" * 60, http=True)
        assert code == 400
        assert "refused line" in message and "it was not run" in message
        assert not any(line.startswith("M117 c") for line in vp.executed[mark:])
        assert printer.link.state.name == "READY"
        await printer.run_gcode("M117 short\nG28 Y")
        assert vp.executed[-2:] == ["M117 short", "G28 Y"]


async def test_a_print_file_with_a_line_that_cannot_fit_is_refused_at_start(
    live: RunningServer,
) -> None:
    vp = virtual_of(live)
    long_move = "G1 " + " ".join(f"X{i}.000000" for i in range(12)) + " ; a comment"
    write_gcode(live, "long.gcode", ["G28", "G90", "; " + "x" * 200,
                                     "EXCLUDE_OBJECT_DEFINE NAME=part " + "P" * 120,
                                     long_move, "G1 X1"])
    mark = len(vp.executed)
    reply = await live.http.post("/printer/print/start", json={"filename": "long.gcode"})
    assert reply.status == 400
    message = reply.json()["error"]["message"]
    assert LIMIT in message and message.endswith("(file line 6)")
    ws = await live.websocket()
    answer = await ws.request("printer.print.start", {"filename": "long.gcode"})
    assert answer["error"]["code"] == -32602
    status = printer_of(live).query_status({"print_stats": ["state"]})
    assert status["print_stats"]["state"] == "standby"
    assert vp.executed[mark:] == []
    await still_usable(live)


async def test_a_print_file_long_messages_are_shortened_and_padded_lines_squeezed(
    live: RunningServer,
) -> None:
    vp = virtual_of(live)
    padded = "G1" + " " * 40 + "X10" + " " * 40 + "Y10 F3000"
    write_gcode(live, "fits.gcode", ["G28", "G90", "M117 " + "m" * 100, padded, "M118 done"])
    reply = await live.http.post("/printer/print/start", json={"filename": "fits.gcode"})
    assert reply.status == 200
    printer = printer_of(live)
    await wait_until(
        lambda: printer.query_status({"print_stats": ["state"]})["print_stats"]["state"]
        == "complete", what="the print completed")
    assert "M117 " + "m" * 74 in vp.executed  # 79 bytes
    assert "G1 X10 Y10 F3000" in vp.executed


def test_a_message_is_cut_at_a_character_boundary() -> None:
    # 74 bytes of message are room for 37 two-byte characters, not 37.5
    assert fit_print_line("M117 " + "é" * 60, 79) == "M117 " + "é" * 37
    assert fit_print_line("M23 " + "a  b" * 30, 79 * 2) == "M23 " + "a  b" * 30
    with pytest.raises(LineTooLong):
        fit_print_line("M23 " + "a  b" * 30, 79)  # a file name is never squeezed


def test_a_long_line_across_read_chunks_is_found_with_its_line_number(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(line_fit, "_CHUNK", 64)  # lines straddle the chunk boundaries
    path = tmp_path / "part.gcode"
    lines = ["; " + "c" * 200, "G28"] + [f"G1 X{i}.5 Y{i}.25" for i in range(40)]
    lines += ["EXCLUDE_OBJECT_DEFINE NAME=a " + "P" * 150, "M117 " + "m" * 150]
    path.write_text("\n".join(lines) + "\n")
    line_fit.scan_file(path, 79)  # comments, host commands and messages are no reason
    long_move = "G1 " + " ".join(f"X{i}.000000" for i in range(12))
    path.write_text("\n".join([*lines, "G1 X1", long_move]))  # no newline at the end
    with pytest.raises(LineTooLong, match=rf"\(file line {len(lines) + 2}\)$"):
        line_fit.scan_file(path, 79)
