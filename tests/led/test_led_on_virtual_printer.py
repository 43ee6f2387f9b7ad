"""The LED strip following a real print on the virtual printer: heating → printing
(progress) → complete on the virtual strip, and M150 to the printer at a bounded rate."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from tests.harness import running_server
from tests.printer.conftest import FAST_PRINTER, printer_of, square_print, virtual_of, wait_until

HEAT_AND_PRINT = ["M140 S60", "M190 S60", "M104 S200", "M109 S200", *square_print(layers=6)]


async def test_virtual_strip_goes_through_heating_printing_and_complete(
    tmp_path: Path,
) -> None:
    config = FAST_PRINTER + "[led]\nbackend: virtual\nled_count: 10\nbrightness: 1.0\n"
    async with running_server(tmp_path, config) as srv:
        printer = printer_of(srv)
        await wait_until(lambda: printer.state == "ready", what="ready")
        (srv.server.data_dir / "gcodes" / "led.gcode").write_text("\n".join(HEAT_AND_PRINT))
        ws = await srv.websocket()
        assert (await ws.call("led.state"))["state"] == "idle"
        await ws.call("printer.print.start", {"filename": "led.gcode"})
        seen: list[str] = []
        printing_frames: list[list[list[float]]] = []
        deadline = asyncio.get_running_loop().time() + 90
        while "complete" not in seen:
            assert asyncio.get_running_loop().time() < deadline, seen
            state = (await ws.call("led.state"))["state"]
            if not seen or seen[-1] != state:
                seen.append(state)
            if state == "printing":
                frame = (await ws.call("led.frame"))["frame"]
                # state and frame are two calls: keep frames that printing brackets
                if (await ws.call("led.state"))["state"] == "printing":
                    printing_frames.append(frame)
            await asyncio.sleep(0.01)
        # the order a person watching the strip sees (the print starts an instant before
        # its first heater target is set, so a first "printing" may come before)
        heating = seen.index("heating")
        printing = seen.index("printing", heating)
        assert seen.index("complete", printing) > printing, seen
        lit = [sum(1 for p in frame if p[1] > 0.5 and p[0] < 0.5) for frame in printing_frames]
        assert lit == sorted(lit) and lit[-1] > lit[0]  # the progress bar only grows


async def test_marlin_backend_sends_m150_at_a_bounded_rate(tmp_path: Path) -> None:
    interval = 0.5
    config = FAST_PRINTER + f"[led]\nbackend: marlin\nmarlin_min_interval: {interval}\n"
    async with running_server(tmp_path, config) as srv:
        printer = printer_of(srv)
        vp = virtual_of(srv)
        await wait_until(lambda: printer.state == "ready", what="ready")
        (srv.server.data_dir / "gcodes" / "m150.gcode").write_text("\n".join(HEAT_AND_PRINT))
        ws = await srv.websocket()
        before = len(vp.executed)
        started = time.monotonic()
        await ws.call("printer.print.start", {"filename": "m150.gcode"})
        await wait_until(
            lambda: printer.query_status({"print_stats": ["state"]})["print_stats"]["state"]
            == "complete", timeout=90, what="print complete")
        await wait_until(lambda: any(c.startswith("M150") for c in vp.executed[before:]),
                         what="an M150")
        elapsed = time.monotonic() - started
        sent = [c for c in vp.executed[before:] if c.startswith("M150")]
        assert sent and all(" R" in c and " U" in c and " B" in c for c in sent)
        assert len(sent) <= elapsed / interval + 2, (len(sent), elapsed)
