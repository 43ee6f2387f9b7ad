"""When to take a frame while a print runs.

Layer mode polls the printer's status a few times a second: a frame when
`print_stats.info.current_layer` changes (the slicer's layer markers, as the printer
tracks them), or, for files without markers, when the G-code Z rises above every Z seen
so far in the print. The frame is for the layer just finished; the last layer gets its
frame when the print completes. Hyperlapse mode takes a frame every interval while
printing (not while paused).

The watcher never waits on a frame: `fire` starts one and returns; a frame still under
way when the next is due makes that one skipped (and logged) by the capturer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from components.printer.api import PrinterApi

log = logging.getLogger(__name__)

POLL_INTERVAL = 0.1
STATUS_QUERY: dict[str, list[str]] = {
    "print_stats": ["state", "info"],
    "gcode_move": ["gcode_position"],
}
Z_EPSILON = 1e-4


class LayerDetector:
    """Feed it status snapshots; it answers the layer finished, if one just was."""

    def __init__(self) -> None:
        self.layer: int | None = None
        self.max_z: float | None = None
        self.z_layers = 0

    def feed(self, status: dict[str, dict[str, object]]) -> int | None:
        stats = status.get("print_stats", {})
        if stats.get("state") != "printing":
            return None
        info = stats.get("info")
        current = info.get("current_layer") if isinstance(info, dict) else None
        if isinstance(current, int):
            previous, self.layer = self.layer, current
            if previous is not None and current != previous:
                return previous
            return None
        if self.layer is not None:
            return None  # markers seen: Z is not used
        position = status.get("gcode_move", {}).get("gcode_position")
        if not isinstance(position, list) or len(position) < 3:
            return None
        z = float(position[2])
        if self.max_z is None:
            self.max_z = z
            return None
        if z > self.max_z + Z_EPSILON:
            had = self.max_z
            self.max_z = z
            if had > 0:
                self.z_layers += 1
                return self.z_layers
        return None


class Watcher:
    """One print's trigger loop (layer or hyperlapse); `stop()` ends it."""

    def __init__(self, source: PrinterApi, mode: str, interval: float,
                 fire: Callable[[str], None]) -> None:
        self.source = source
        self.mode = mode
        self.interval = interval
        self.fire = fire
        self.detector = LayerDetector()
        self._stopped = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        try:
            if self.mode == "hyperlapse":
                await self._hyperlapse()
            else:
                await self._layers()
        except Exception:
            log.exception("timelapse trigger failed")

    async def _sleep(self, seconds: float) -> bool:
        """Wait; False once stopped."""
        try:
            await asyncio.wait_for(self._stopped.wait(), seconds)
        except TimeoutError:
            return True
        return False

    def _status(self) -> dict[str, dict[str, object]]:
        return self.source.query_status(STATUS_QUERY)

    async def _layers(self) -> None:
        while await self._sleep(POLL_INTERVAL):
            finished = self.detector.feed(self._status())
            if finished is not None:
                self.fire(f"layer {finished}")

    async def _hyperlapse(self) -> None:
        while await self._sleep(self.interval):
            if self._status().get("print_stats", {}).get("state") == "printing":
                self.fire("hyperlapse")

    async def stop(self) -> None:
        self._stopped.set()
        await self._task
