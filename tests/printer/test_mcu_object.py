"""The link's quality in the Klipper-shaped `mcu` object, read as a frontend would."""

from __future__ import annotations

from tests.harness import RunningServer, wait_for

from .conftest import virtual_of


async def test_link_errors_under_corruption_show_in_the_mcu_object(live: RunningServer) -> None:
    ws = await live.websocket()
    vp = virtual_of(live)
    vp.set_corruption_rate(0.05, seed=11)
    script = "\n".join(f"G1 X{10 + i % 50} Y{10 + i % 7} F6000" for i in range(300))
    await ws.call("printer.gcode.script", {"script": script}, timeout=60)
    vp.set_corruption_rate(0.0)
    firmware_errors = vp.stats.checksum_errors
    assert firmware_errors > 0

    async def stats() -> dict[str, int]:
        reply = await ws.call("printer.objects.query", {"objects": {"mcu": None}})
        result: dict[str, int] = reply["status"]["mcu"]["last_stats"]
        return result

    # refreshed once a second: every error the firmware reported has been counted
    await wait_for(lambda: _matches(stats(), firmware_errors), timeout=10)
    last = await stats()
    assert last["resends"] >= firmware_errors
    assert last["bytes_retransmit"] > 0 and last["bytes_write"] > last["bytes_retransmit"]
    assert last["lines_acknowledged"] >= 300
    reply = await ws.call("printer.objects.query", {"objects": {"mcu": None}})
    mcu = reply["status"]["mcu"]
    assert mcu["mcu_version"].startswith("Marlin")
    assert mcu["mcu_constants"]["MACHINE_TYPE"] == "Virtual Printer"
    assert mcu["mcu_constants"]["ADVANCED_OK"] == 1


async def _matches(stats: object, errors: int) -> bool:
    last = await stats  # type: ignore[misc]
    return bool(last.get("checksum_errors") == errors)
