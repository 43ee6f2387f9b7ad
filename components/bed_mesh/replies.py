"""Running G-code through the printer component and keeping what the firmware answered.

`PrinterApi.run_gcode` returns nothing, so the lines are collected from the
`GcodeResponse` event while the script runs: the printer forwards every echo
line as it arrives and the other reply lines of a batch before `run_gcode` returns.
Lines of other scripts running at the same time can be mixed in; the mesh parser looks
for its own headers, so they do no harm. (A `run_gcode_replies` method on the printer
API would make this exact; see docs/bed_mesh.md.)
"""

from __future__ import annotations

from components.printer.api import GcodeResponse, PrinterApi
from gateway.events import EventBus


async def run_collecting(events: EventBus, printer: PrinterApi, script: str) -> list[str]:
    lines: list[str] = []
    unsubscribe = events.subscribe(GcodeResponse, lambda e: lines.append(e.line))
    try:
        await printer.run_gcode(script)
    finally:
        unsubscribe()
    return lines
