"""bench/fleet_client.py, the short script of docs/fleet.md: it sees a printer's state and
starts a print on it by MQTT alone."""

from __future__ import annotations

import asyncio
import contextlib
import io
from pathlib import Path

from bench.fleet_client import watch
from tests.broker import Mosquitto
from tests.harness import running_server, wait_for
from tests.printer.conftest import FAST_PRINTER, printer_of, write_gcode


async def test_the_fleet_script_watches_and_starts_a_print_by_mqtt_alone(
    tmp_path: Path, broker: Mosquitto
) -> None:
    config = FAST_PRINTER + f"""
[mqtt]
address: 127.0.0.1
port: {broker.port}
instance_name: printer2
status_objects: webhooks, print_stats
"""
    async with running_server(tmp_path / "srv", config) as srv:
        await wait_for(lambda: printer_of(srv).state == "ready", what="printer ready")
        write_gcode(srv, "cube.gcode", ["G28", "G1 X10 F3000", "G1 X20"])
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            task = asyncio.ensure_future(watch("127.0.0.1", broker.port,
                                               ("printer2", "cube.gcode")))
            try:
                await wait_for(lambda: "printer2: answer ok" in out.getvalue()
                               and "state=complete" in out.getvalue(), what="the print")
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        text = out.getvalue()
        assert "printer2: server online" in text
        assert "print_stats(state=printing" in text or "state=printing" in text
