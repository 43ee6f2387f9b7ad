"""Cancel and pause answer at once whatever the firmware is doing (a 60 s dwell, a
heat-up), over HTTP and the websocket; the rest follows when the firmware frees up."""

from __future__ import annotations

import time
from typing import Any

import pytest

from components.printer.api import JobFinished
from gateway.hostlink.protocol import LineSent
from tests.harness import RunningServer, Websocket
from tests.printer.conftest import printer_of, virtual_of, wait_until, write_gcode

# unique moves after the long command: none may be sent once the cancel was asked for
TAIL = [f"G1 X{20 + i * 0.5:.1f} Y{30 + i * 0.25:.2f} F3000" for i in range(60)]


async def call(live: RunningServer, ws: Websocket, method: str, http: bool) -> Any:
    if http:
        reply = await live.http.post("/printer/print/" + method.rsplit(".", 1)[1])
        assert reply.status == 200, reply.body
        return reply.json()["result"]
    return await ws.call(method)


def print_state(live: RunningServer) -> str:
    state: str = printer_of(live).query_status({"print_stats": ["state"]})[
        "print_stats"]["state"]
    return state


def record_sent(live: RunningServer) -> list[str]:
    sent: list[str] = []

    def listener(event: object) -> None:
        if isinstance(event, LineSent) and not event.resend:
            sent.append(event.command)

    printer_of(live).link.add_listener(listener)
    return sent


@pytest.mark.parametrize("http", [False, True], ids=["websocket", "http"])
async def test_cancel_during_a_60_s_dwell_answers_at_once_and_sends_nothing_more(
    live: RunningServer, http: bool
) -> None:
    ws = await live.websocket()
    vp = virtual_of(live)
    write_gcode(live, "dwell.gcode", ["G28", "G1 X10 Y10 F6000", "G4 P60000", *TAIL])
    await ws.call("printer.print.start", {"filename": "dwell.gcode"})
    await wait_until(lambda: "G4 P60000" in vp.executed, what="the dwell")
    sent = record_sent(live)
    began = time.monotonic()
    assert await call(live, ws, "printer.print.cancel", http) == "ok"
    answered = time.monotonic() - began
    assert answered < 1.0, f"cancel answered after {answered:.2f} s"
    # the dwell (60 s at the virtual printer's time scale 25: 2.4 s) is still running
    assert print_state(live) == "cancelling"
    await wait_until(lambda: print_state(live) == "cancelled", timeout=30, what="cancelled")
    assert not set(sent) & set(TAIL), "file lines were sent after the cancel"
    assert not set(vp.executed) & set(TAIL)
    assert vp.executed[-4:] == ["M104 S0", "M140 S0", "M107", "M84"]
    again = await ws.request("printer.print.cancel")
    assert again["error"]["code"] == 409


@pytest.mark.parametrize("http", [False, True], ids=["websocket", "http"])
async def test_cancel_during_a_heat_up_answers_at_once_and_stops_heating(
    live: RunningServer, http: bool
) -> None:
    ws = await live.websocket()
    vp = virtual_of(live)
    write_gcode(live, "heat.gcode", ["M140 S90", "M109 S260", "G28", *TAIL])
    await ws.call("printer.print.start", {"filename": "heat.gcode"})
    await wait_until(lambda: vp.firmware.wait_for_heatup, what="the heat-up wait")
    began = time.monotonic()
    await call(live, ws, "printer.print.cancel", http)
    assert time.monotonic() - began < 1.0
    await wait_until(lambda: print_state(live) == "cancelled", timeout=10, what="cancelled")
    thermal = vp.firmware.thermal
    assert thermal.hotends[0].target == 0.0 and thermal.bed is not None
    assert thermal.bed.target == 0.0
    # the homing and the moves after the heat-up never ran
    executed = vp.executed
    assert "G28" not in executed[executed.index("M109 S260"):]
    assert not set(executed) & set(TAIL)


@pytest.mark.parametrize("http", [False, True], ids=["websocket", "http"])
async def test_pause_during_a_heat_up_answers_at_once_and_resume_heats_again(
    live: RunningServer, http: bool
) -> None:
    ws = await live.websocket()
    vp = virtual_of(live)
    write_gcode(live, "heat2.gcode", ["M302 P1", "G28", "M109 S200", *TAIL[:5]])
    await ws.call("printer.print.start", {"filename": "heat2.gcode"})
    await wait_until(lambda: vp.firmware.wait_for_heatup, what="the heat-up wait")
    began = time.monotonic()
    await call(live, ws, "printer.print.pause", http)
    assert time.monotonic() - began < 1.0
    status = printer_of(live).query_status({"pause_resume": None, "print_stats": ["state"]})
    assert status["pause_resume"]["is_paused"] and status["print_stats"]["state"] == "paused"
    await wait_until(lambda: "G1 X0.0000 Y220.0000 F6000" in vp.executed, what="parked")
    mark = len(vp.executed)
    await call(live, ws, "printer.print.resume", http)
    await wait_until(lambda: print_state(live) == "complete", timeout=30, what="complete")
    after = vp.executed[mark:]
    # the broken heat-up is done again before the head goes back to the part
    assert after[0] == "M109 T0 S200"
    assert [c for c in after if c in TAIL] == TAIL[:5]


async def test_a_job_failing_while_pause_waits_is_not_left_paused(
    live: RunningServer,
) -> None:
    ws = await live.websocket()
    vp = virtual_of(live)
    write_gcode(live, "fail.gcode", ["G28", "G4 P60000", *TAIL])
    ended: list[Any] = []
    live.server.events.subscribe(JobFinished, ended.append)
    await ws.call("printer.print.start", {"filename": "fail.gcode"})
    await wait_until(lambda: "G4 P60000" in vp.executed, what="the dwell")
    await ws.call("printer.print.pause")  # answers while the dwell holds the drain
    vp.firmware_reset()  # the job fails before the line in flight is acknowledged
    await wait_until(lambda: bool(ended), what="the job's end")
    status = printer_of(live).query_status({"pause_resume": None, "print_stats": ["state"]})
    assert status == {"pause_resume": {"is_paused": False}, "print_stats": {"state": "error"}}
    resume = await ws.request("printer.print.resume")
    assert resume["error"]["code"] == 409


async def test_m600_shows_the_print_paused_and_the_prompt_once(live: RunningServer) -> None:
    ws = await live.websocket()
    vp = virtual_of(live)
    printer = printer_of(live)
    write_gcode(live, "m600.gcode", ["G28", "G1 X10 Y10 F3000", "M600", *TAIL[:3]])
    start = len(ws.notifications)
    await ws.call("printer.print.start", {"filename": "m600.gcode"})
    await wait_until(lambda: vp.firmware.wait_for_user, what="the filament change")
    await wait_until(lambda: print_state(live) == "paused", what="paused")
    assert printer.query_status({"pause_resume": None})["pause_resume"]["is_paused"]
    await ws.wait_notification("notify_gcode_response",
                               lambda n: n["params"][0] == "// action:prompt_show", start=start)
    await ws.call("printer.print.resume")
    await wait_until(lambda: print_state(live) == "complete", what="complete")
    lines = [n["params"][0] for n in ws.notifications[start:]
             if n["method"] == "notify_gcode_response"]
    assert lines.count("// action:prompt_begin Nozzle Parked") == 1
    assert lines.count("// action:prompt_show") == 1
    assert lines.count("// action:paused") == 1
    assert [c for c in vp.executed if c in TAIL] == TAIL[:3]
