"""A host print survives kill -9 of the server: the board keeps running (the print goes
on exactly after the last line it took) or is reset (heat, X/Y homing only, Z from the
record, then on). The virtual printer runs in a process of its own, outliving the server,
and writes down every command it runs: nothing twice, nothing skipped, Z never homed."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import msgspec
import pytest

from tests.harness import ServerProcess, Websocket, wait_for

HANDSHAKE = ("M110 N0", "M115")
# what the host asks the firmware by itself (reports, settings): not the print's lines
HOST_QUERIES = frozenset({"M105", "M114", "M154", "M155", "M211", "M27", "M503"})


@contextmanager
def virtual_printer(tmp_path: Path, *extra: str) -> Iterator[tuple[str, Path, int]]:
    """(port, record file, pid) of a virtual printer in its own process."""
    record = tmp_path / "executed.txt"
    proc = subprocess.Popen(
        [sys.executable, "-m", "gateway.hostlink.virtual", "--baud", "250000",
         "--time-scale", "10", "--record", str(record), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    port = proc.stdout.readline().decode().strip()
    try:
        yield port, record, proc.pid
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(10)
        proc.stdout.close()


def squeezed(command: str) -> str:
    """As the firmware reads a move with MeatPack's no-spaces mode."""
    return command.replace(" ", "") if command.split(" ")[0] in SQUEEZED else command


SQUEEZED = ("G0", "G1", "G2", "G3", "G92")


def executed(record: Path) -> list[str]:
    out: list[str] = []
    for line in record.read_text().splitlines():
        if line == "#cut short":  # a command a reset interrupted: it never ran
            out.pop()
        else:
            out.append(squeezed(line) if line[:1] == "G" and " " not in line else line)
    return out


def print_file(data: Path, *, long_move_at: int | None = None) -> list[str]:
    """A 6-layer print of short extruding moves; returns its commands in order."""
    lines = ["M117 part starts", "M302 P1", "G28", "G90", "M82", "G92 E0", "M106 S128",
             ";LAYER_COUNT:6"]
    e = 0.0
    for layer in range(6):
        lines += [f";LAYER:{layer}", f"G1 Z{0.2 * (layer + 1):.2f} F600"]
        for i in range(120):
            if long_move_at is not None and layer * 120 + i == long_move_at:
                lines.append("G1 X180 Y20 F300 ; a long slow move")
            x = 40 + (i % 30) * 1.5
            y = 40 + (i // 30) * 6 + layer * 0.1
            e += 0.03
            lines.append(f"G1 X{x:.2f} Y{y:.2f} E{e:.4f} F{1500 + 100 * layer}")
    lines.append("M107")
    path = data / "gcodes" / "part.gcode"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return [ln.split(";")[0].strip() for ln in lines if ln.split(";")[0].strip()]


def config(port: str) -> str:
    return f"""
[server]
host: 127.0.0.1
port: 0

[serial]
port: {port}
baud: 250000
connect_timeout: 15
"""


async def connect(server: ServerProcess, sockets: list[Websocket]) -> Websocket:
    """A socket once the printer is ready; kept in `sockets`, which the test closes
    whatever happens (an unclosed socket's ResourceWarning fails a later test)."""
    ws = await Websocket.connect(f"ws://127.0.0.1:{server.port}/websocket")
    sockets.append(ws)

    async def ready() -> bool:
        try:
            info = await ws.call("printer.info")
        except Exception:
            return False
        return bool(info.get("state") == "ready")

    await wait_for(ready, timeout=30, what="printer ready")
    return ws


async def status(ws: Websocket, *objects: str) -> dict[str, Any]:
    reply = await ws.call("printer.objects.query", {"objects": dict.fromkeys(objects)})
    result: dict[str, Any] = reply["status"]
    return result


def split_sessions(commands: list[str], expected: list[str]) -> tuple[list[str], list[str]]:
    """The print commands the first server got run, and what ran after the restart."""
    start = commands.index(expected[0])
    second = commands.index(HANDSHAKE[0], start)
    return commands[start:second], commands[second:]


def assert_resumed_exactly(commands: list[str], expected: list[str]) -> list[str]:
    """Every command of the file ran exactly once, in order; returns what ran between
    the second handshake and the resumed print (the resume's own commands)."""
    commands = [squeezed(c) for c in commands if c.split(" ")[0] not in HOST_QUERIES]
    expected = [squeezed(c) for c in expected]
    printed, after = split_sessions(commands, expected)
    assert printed == expected[: len(printed)]
    rest = expected[len(printed):]
    assert rest, "the print had finished before the server was killed"
    assert after[-len(rest):] == rest
    between = after[: -len(rest)]
    # M110 may have gone out again while the board was still busy with what it had taken
    while between[1:2] == [HANDSHAKE[0]]:
        between = between[1:]
    assert between[: len(HANDSHAKE)] == list(HANDSHAKE)
    for command in after:  # never home Z into the part
        if command.startswith("G28"):
            assert "Z" not in command and ("X" in command or "Y" in command), command
    return between[len(HANDSHAKE):]


def saved_offset(data: Path) -> int | None:
    db = data / "database" / "skysail.sqlite"
    if not db.exists():
        return None
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT value FROM namespace_items WHERE namespace = 'skysail' "
                           "AND key = 'interrupted_print'").fetchone()
    finally:
        conn.close()
    if row is None:
        return None
    lines = msgspec.json.decode(row[0])["lines"]
    return int(lines[0][1])


async def resume_when_announced(ws: Websocket, **params: Any) -> dict[str, Any]:
    async def announced() -> bool:
        st = (await status(ws, "print_stats"))["print_stats"]
        return bool(st["state"] == "error" and "RESUME_INTERRUPTED" in st["message"])

    await wait_for(announced, timeout=20, what="the interrupted print announced")
    st = (await status(ws, "print_stats", "virtual_sdcard"))
    assert st["print_stats"]["filename"] == "part.gcode"
    await ws.call("printer.print.resume_interrupted", params)
    return st


async def wait_complete(ws: Websocket) -> None:
    async def complete() -> bool:
        st = (await status(ws, "print_stats"))["print_stats"]
        assert st["state"] != "error", st
        return bool(st["state"] == "complete")

    await wait_for(complete, timeout=120, what="the resumed print to complete")


@pytest.mark.allow_error_logs
async def test_kill_9_with_the_board_kept_resumes_after_the_last_line_it_took(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    expected = print_file(data)
    with virtual_printer(tmp_path, "--meatpack") as (port, record, _pid):
        server = ServerProcess(data, config(port))
        server.start()
        sockets: list[Websocket] = []
        try:
            ws = await connect(server, sockets)
            await ws.call("printer.print.start", {"filename": "part.gcode"})

            async def midway() -> bool:
                sd = (await status(ws, "virtual_sdcard"))["virtual_sdcard"]
                return bool(sd["progress"] > 0.4)

            await wait_for(midway, timeout=60, what="the print half done")
            await wait_for(lambda: saved_offset(data) is not None, what="a saved resume point")
            server.kill()  # kill -9: the board keeps running what it took
            await ws.close()
            server.start()
            ws = await connect(server, sockets)
            before = await resume_when_announced(ws)
            assert before["virtual_sdcard"]["file_position"] > 0
            await wait_complete(ws)
            resume = assert_resumed_exactly(executed(record), expected)
            # the modes came back, no motion but the feed rate
            assert "M82" in resume and "M106 S128" in resume
            assert all(not c.startswith(("G0", "G1X", "G1Y", "G1Z", "G28")) for c in resume)
        finally:
            for socket in sockets:
                await socket.close()
            server.kill()


@pytest.mark.allow_error_logs
async def test_kill_9_with_the_board_reset_homes_x_y_only_and_continues(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    expected = print_file(data, long_move_at=300)
    with virtual_printer(tmp_path) as (port, record, pid):
        server = ServerProcess(data, config(port))
        server.start()
        sockets: list[Websocket] = []
        try:
            ws = await connect(server, sockets)
            await ws.call("printer.print.start", {"filename": "part.gcode"})

            # the long move holds the print: the stream stops, and the resume point saved
            # while it stands still is exact
            async def held() -> bool:
                sd = (await status(ws, "virtual_sdcard"))["virtual_sdcard"]
                position = sd["file_position"]
                return bool(sd["progress"] > 0.3 and saved_offset(data) == position)

            await wait_for(held, timeout=60, what="the print held by the long move")
            server.kill()
            os.kill(pid, signal.SIGUSR1)  # and the board resets (a power cut)
            await ws.close()
            server.start()
            ws = await connect(server, sockets)
            with pytest.raises(Exception, match="CONFIRM=1"):
                await resume_when_announced(ws)  # Z must be confirmed first
            await ws.call("printer.print.resume_interrupted", {"confirm": True})
            await wait_complete(ws)
            resume = assert_resumed_exactly(executed(record), expected)
            homing = [c for c in resume if c.startswith("G28")]
            assert homing == ["G28 X Y"]
            assert resume.index("G92Z0.6000") < resume.index("G28 X Y")  # Z known first
        finally:
            for socket in sockets:
                await socket.close()
            server.kill()


def test_resume_point_arithmetic(tmp_path: Path) -> None:
    """The record's line numbers map onto the file, past the lines it listed."""
    from components.printer.resume_record import GcodeSnapshot, ResumeRecord, resume_point

    path = tmp_path / "f.gcode"
    path.write_text("G28\n; comment\nG1 X1\n\nG1 X2\nSET_PRINT_STATS_INFO CURRENT_LAYER=1\n"
                    "G1 X3\nG1 X4\n")
    ends = [4, 20, 27, 70, 76]  # offsets after G28, G1 X1, G1 X2, G1 X3, G1 X4
    snap = GcodeSnapshot([0.0] * 4, True, True, 1500.0, 1.0, 1.0, 0.0, {}, 0, 0.0)
    record = ResumeRecord("f.gcode", str(path), path.stat().st_size, 0,
                          [(10, ends[0]), (11, ends[1])], snap, None, None, 0.0, 0.0, False,
                          time.time())
    assert resume_point(record, 9) is None  # before the print's lines: numbering restarted
    assert [resume_point(record, n) for n in (10, 11, 12, 13, 14)] == ends
    assert resume_point(record, 15) is None  # beyond the file
