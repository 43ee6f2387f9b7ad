"""Power devices around the printer, on the virtual printer: `marlin` (M80/M81 with
Cap:SOFTWARE_POWER, the link reconnected after power-on), locked_while_printing,
on_when_job_queued and off_when_shutdown."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from components.printer.api import PrinterStateChanged
from tests.harness import RunningServer, running_server, wait_for
from tests.power.fake_devices import fake_devices
from tests.printer.conftest import FAST_PRINTER, printer_of, virtual_of, write_gcode

PSU_PRINTER = FAST_PRINTER + "virtual_software_power: True\n"


def device_state(srv: RunningServer, name: str) -> str:
    power: Any = srv.server.components["power"]
    return str(power.devices[name].state)


async def test_marlin_power_switches_the_printers_supply_and_reconnects_the_link(
    tmp_path: Path,
) -> None:
    config = PSU_PRINTER + """
[power printer]
type: marlin
restart_klipper_when_powered: True
restart_delay: 0
"""
    async with running_server(tmp_path, config) as srv:
        printer = printer_of(srv)
        await wait_for(lambda: printer.state == "ready", what="printer ready")
        # the supply is on after a reset; M80 S says so
        await wait_for(lambda: device_state(srv, "printer") == "on", what="psu on")
        ws = await srv.websocket()
        assert await ws.call("machine.device_power.post_device",
                             {"device": "printer", "action": "off"}) == {"printer": "off"}
        vp = virtual_of(srv)
        assert "M81" in vp.executed
        assert await ws.call("machine.device_power.get_device",
                             {"device": "printer"}) == {"printer": "off"}
        states: list[str] = []
        srv.server.events.subscribe(PrinterStateChanged, lambda e: states.append(e.state))
        handshakes = vp.executed.count("M115")
        assert await ws.call("machine.device_power.post_device",
                             {"device": "printer", "action": "on"}) == {"printer": "on"}
        assert vp.executed[-1].startswith("M80")
        assert "M80" in vp.executed
        # restart_klipper_when_powered: the link goes down and handshakes again
        await wait_for(lambda: "ready" in states and states[0] != "ready",
                       what="the link reconnected")
        await wait_for(lambda: virtual_of(srv).executed.count("M115") > handshakes
                       or virtual_of(srv) is not vp, what="a new handshake")
        await wait_for(lambda: printer.state == "ready", what="printer ready again")
        await wait_for(lambda: device_state(srv, "printer") == "on", what="psu still on")


async def test_marlin_power_without_software_power_says_why(tmp_path: Path) -> None:
    config = FAST_PRINTER + "\n[power printer]\ntype: marlin\n"
    async with running_server(tmp_path, config) as srv:
        await wait_for(lambda: printer_of(srv).state == "ready", what="printer ready")
        reply = await srv.http.post("/machine/device_power/device",
                                    json={"device": "printer", "action": "on"})
        assert reply.status == 502
        assert "Cap:SOFTWARE_POWER" in reply.json()["error"]["message"]
        assert device_state(srv, "printer") == "error"


def long_print(srv: RunningServer) -> None:
    lines = ["M302 P1", "G28", "G90"] + [f"G1 X{10 + i % 50} Y{10 + i % 40} F3000"
                                        for i in range(3000)]
    write_gcode(srv, "long.gcode", lines)


async def test_locked_while_printing_refuses_to_switch_off_during_a_print(
    tmp_path: Path,
) -> None:
    async with fake_devices() as fake:
        fake.state.relays[1] = True
        config = FAST_PRINTER + f"""
[power printer]
type: tasmota
address: {fake.address}
locked_while_printing: True
"""
        async with running_server(tmp_path, config) as srv:
            printer = printer_of(srv)
            await wait_for(lambda: printer.state == "ready", what="printer ready")
            await wait_for(lambda: device_state(srv, "printer") == "on", what="plug read")
            long_print(srv)
            ws = await srv.websocket()
            await ws.call("printer.print.start", {"filename": "long.gcode"})
            await wait_for(lambda: printer.query_status({"print_stats": ["state"]})
                           ["print_stats"]["state"] == "printing", what="printing")
            for action in ("off", "toggle"):
                reply = await ws.request("machine.device_power.post_device",
                                         {"device": "printer", "action": action})
                assert reply["error"] == {
                    "code": 400, "message": "Unable to change power for printer while printing"}
            # the batch API and a paused print are refused too; the relay never moved
            reply = await ws.request("machine.device_power.off", {"printer": None})
            assert reply["error"]["code"] == 400
            await ws.call("printer.print.pause")
            reply = await ws.request("machine.device_power.post_device",
                                     {"device": "printer", "action": "off"})
            assert reply["error"]["code"] == 400
            assert fake.state.relays[1] is True
            assert not any("Off" in r for r in fake.state.requests)
            await ws.call("printer.print.cancel")
            await wait_for(lambda: printer.query_status({"print_stats": ["state"]})
                           ["print_stats"]["state"] == "cancelled", what="cancelled")
            assert await ws.call("machine.device_power.post_device",
                                 {"device": "printer", "action": "off"}) == {"printer": "off"}
            assert fake.state.relays[1] is False


async def test_on_when_job_queued_switches_on_when_the_queue_gets_a_job(
    tmp_path: Path,
) -> None:
    async with fake_devices() as fake:
        config = FAST_PRINTER + f"""
[power printer]
type: shelly
address: {fake.address}
on_when_job_queued: True
"""
        async with running_server(tmp_path, config) as srv:
            await wait_for(lambda: device_state(srv, "printer") == "off", what="relay read")
            ws = await srv.websocket()
            await ws.call("server.job_queue.pause")
            write_gcode(srv, "queued.gcode", ["G28"])
            await ws.call("server.job_queue.post_job", {"filenames": ["queued.gcode"]})
            note = await ws.wait_notification(
                "notify_power_changed", lambda n: n["params"][0]["status"] == "on")
            assert note["params"][0]["device"] == "printer"
            assert fake.state.relays[0] is True
            assert "GET /relay/0?turn=on" in fake.state.requests


async def test_off_when_shutdown_switches_off_after_an_emergency_stop(tmp_path: Path) -> None:
    async with fake_devices() as fake:
        fake.state.relays[1] = True
        config = FAST_PRINTER + f"""
[power printer]
type: tasmota
address: {fake.address}
off_when_shutdown: True
off_when_shutdown_delay: 0.1
"""
        async with running_server(tmp_path, config) as srv:
            printer = printer_of(srv)
            await wait_for(lambda: printer.state == "ready", what="printer ready")
            await wait_for(lambda: device_state(srv, "printer") == "on", what="plug read")
            ws = await srv.websocket()
            await ws.call("printer.emergency_stop")
            await wait_for(lambda: device_state(srv, "printer") == "off", what="switched off")
            assert fake.state.relays[1] is False
