"""Headless Chromium shows live temperatures and a print's progress from the real server
driving the virtual printer."""

from __future__ import annotations

from pathlib import Path

from tests.chromium import open_page
from tests.harness import running_server
from tests.printer.conftest import FAST_PRINTER, printer_of, square_print, wait_until, write_gcode


async def test_page_shows_temperatures_and_print_progress(tmp_path: Path) -> None:
    async with running_server(tmp_path, FAST_PRINTER) as srv:
        printer = printer_of(srv)
        await wait_until(lambda: printer.state == "ready", what="printer ready")
        write_gcode(srv, "page.gcode", square_print(layers=4))
        async with open_page(f"{srv.base}/test/client/") as page:
            await page.wait_for("document.body && document.body.dataset.printer === 'subscribed'")
            hotend = await page.wait_for(
                "(() => { const t = document.getElementById('temp-extruder').textContent;"
                " return t.includes('°C') && t; })()")
            assert hotend.endswith("/ 0 °C")
            ws = await srv.websocket()
            await ws.call("printer.gcode.script", {"script": "M140 S60"})
            await page.wait_for(
                "document.getElementById('temp-heater_bed').textContent.includes('/ 60 °C')")
            await ws.call("printer.print.start", {"filename": "page.gcode"})
            await page.wait_for(
                "document.getElementById('print-state').textContent === 'printing'")
            await page.wait_for(
                "document.getElementById('print-state').textContent === 'complete'", timeout=60)
            percent = await page.evaluate("document.getElementById('print-percent').textContent")
            assert percent == "100%"
            assert await page.evaluate(
                "document.getElementById('print-file').textContent") == "page.gcode"
            await page.screenshot(tmp_path / "printer-page.png")
