"""'ready' is announced only once the host's own questions at connect are answered (M115
in the handshake, M211 and M503, a first temperature report), as Klipper is ready only
after its init: what a client sends at ready never comes between them."""

from __future__ import annotations

from pathlib import Path

from components.printer.api import PrinterStateChanged
from tests.harness import running_server
from tests.printer.conftest import FAST_PRINTER, printer_of, virtual_of, wait_until

# the chamber's reading creates a temperature_sensor object at the first report
CONFIG = FAST_PRINTER + "temperature_report_interval: 30\nvirtual_extra_sensors: C\n"


async def test_ready_comes_after_the_connect_queries_and_a_temperature_report(
    tmp_path: Path,
) -> None:
    async with running_server(tmp_path, CONFIG) as srv:
        printer = printer_of(srv)
        await wait_until(lambda: printer.state == "ready", what="printer ready")
        at_ready: list[dict[str, object]] = []
        states: list[str] = []

        def on_state(event: PrinterStateChanged) -> None:
            states.append(event.state)
            if event.state == "ready":
                at_ready.append({
                    "settled": printer.core.settled.is_set(),
                    "executed": list(virtual_of(srv).executed),  # a new board each restart
                    "objects": set(printer.core.model.names()),
                    "webhooks": printer.query_status({"webhooks": ["state"]})["webhooks"],
                })

        srv.server.events.subscribe(PrinterStateChanged, on_state)
        await printer.core.restart()
        await wait_until(lambda: bool(at_ready), what="ready again")
        seen = at_ready[0]
        assert states[-2:] == ["startup", "ready"]
        assert printer.state_message == "Printer is ready"
        assert seen["settled"] is True
        executed = seen["executed"]
        assert isinstance(executed, list)
        assert "M211" in executed and "M503" in executed
        # no temperature auto-report within 30 s: the host asked, once the others answered
        assert executed.index("M105") > executed.index("M503")
        assert "temperature_sensor chamber" in seen["objects"]  # type: ignore[operator]
        assert seen["webhooks"] == {"state": "ready"}


async def test_a_script_sent_at_ready_runs_with_nothing_in_between(tmp_path: Path) -> None:
    async with running_server(tmp_path, FAST_PRINTER) as srv:
        printer = printer_of(srv)
        await wait_until(lambda: printer.state == "ready", what="printer ready")
        ws = await srv.websocket()
        try:
            for _ in range(3):
                start = len(ws.notifications)
                assert await ws.call("printer.restart") == "ok"
                await ws.wait_notification("notify_klippy_ready", start=start)
                assert await ws.call("printer.gcode.script",
                                     {"script": "G91\nG1 X1\nG90"}) == "ok"
                assert virtual_of(srv).executed[-3:] == ["G91", "G1 X1", "G90"]
        finally:
            await ws.close()
