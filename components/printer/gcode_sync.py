"""The host's G-code state → gcode_move, toolhead, motion_report, fan, display_status.

Acknowledged commands change the G-code state at once; the objects follow a moment
later, so a burst of acknowledgements makes one update."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Mapping
from typing import Any

from components.printer.gcode_state import GcodeState
from components.printer.status import StatusModel

# quick for console moves; while printing, 4 Hz (as Klipper's status updates) is plenty
# for a position display and spares tablets and Pis
GCODE_SYNC_DELAY = 0.05
GCODE_SYNC_DELAY_PRINTING = 0.25


class GcodeSync:
    def __init__(
        self,
        gcode: GcodeState,
        model: StatusModel,
        update: Callable[[str, Mapping[str, Any]], None],
        printing: Callable[[], bool],
    ) -> None:
        self.gcode = gcode
        self.model = model
        self.update = update
        self.printing = printing
        # the firmware reports its own position (M154/M114): motion_report shows that
        self.position_reports = False
        self._handle: asyncio.TimerHandle | None = None
        # heater targets as last pushed from commands: a push only when one changes, so
        # the firmware's own report (which may clamp a target) is never fought over
        self._targets: dict[str, float] = {}

    def forget_targets(self) -> None:
        self._targets.clear()

    def schedule(self) -> None:
        if self._handle is None:
            delay = GCODE_SYNC_DELAY_PRINTING if self.printing() else GCODE_SYNC_DELAY
            self._handle = asyncio.get_running_loop().call_later(delay, self.sync)

    def close(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def sync(self) -> None:
        self._handle = None
        g = self.gcode
        update = self.update
        update("gcode_move", {
            "gcode_position": g.gcode_position(),
            "position": list(g.position),
            "homing_origin": list(g.homing_origin),
            "speed": g.feedrate,
            "speed_factor": g.speed_factor,
            "extrude_factor": g.extrude_factor,
            "absolute_coordinates": g.absolute_coordinates,
            "absolute_extrude": g.absolute_extrude,
        })
        physical = list(g.position)
        physical[2] += g.babystep_z
        toolhead: dict[str, Any] = {"homed_axes": g.homed_axes, "position": physical,
                                    "extruder": "extruder" if g.active_tool == 0
                                    else f"extruder{g.active_tool}"}
        motion = g.motion
        if "max_velocity" in motion:
            toolhead["max_velocity"] = motion["max_velocity"]
        if "max_accel" in motion:
            toolhead["max_accel"] = motion["max_accel"]
        if "junction_deviation" in motion:
            accel = motion.get("max_accel", self.model.get("toolhead", "max_accel", 3000.0))
            scv = math.sqrt(motion["junction_deviation"] * accel / (math.sqrt(2.0) - 1.0))
            toolhead["square_corner_velocity"] = round(scv, 3)
        update("toolhead", toolhead)
        for name, advance in g.pressure_advance.items():
            if self.model.has(name):
                update(name, {"pressure_advance": advance})
        moving = self.printing() and self.model.get("print_stats", "state") == "printing"
        velocity = g.feedrate / 60.0 * g.speed_factor if moving else 0.0
        live: dict[str, Any] = {
            "live_velocity": round(velocity, 3),
            "live_extruder_velocity": round(velocity * g.last_e_ratio * g.extrude_factor, 4),
        }
        if not self.position_reports:
            live["live_position"] = list(g.position)
        update("motion_report", live)
        update("fan", {"speed": g.fan_speed})
        for name, target in g.targets.items():
            if self.model.has(name) and self._targets.get(name) != target:
                self._targets[name] = target
                update(name, {"target": target})
        message = g.display_message
        status: dict[str, Any] = {"message": message}
        if g.display_progress is not None:
            status["progress"] = g.display_progress
        update("display_status", status)
