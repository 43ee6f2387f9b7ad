"""Klipper's gcode_move, toolhead and extruder commands on Marlin:

SAVE_GCODE_STATE NAME=          the send-time G-code state, kept on the host
RESTORE_GCODE_STATE NAME= MOVE= MOVE_SPEED=
                                G90/G91 + M82/M83 always (the firmware is put back in
                                the saved modes), G92 E, G1 F, M220/M221 when changed,
                                the offsets, and with MOVE=1 a move back
SET_GCODE_OFFSET X= Y= Z= X_ADJUST= … MOVE= MOVE_SPEED=
                                Z by babystepping (M290) when the firmware has it,
                                else (and X, Y always) added by the host to later moves
Z_OFFSET_APPLY_ENDSTOP          the Z offset moves into Marlin's home offset (M206 Z, and
                                M290 back when it was babystepped); SAVE_CONFIG → M500
GET_POSITION                    M114
SET_VELOCITY_LIMIT VELOCITY= ACCEL= SQUARE_CORNER_VELOCITY= MINIMUM_CRUISE_RATIO=
                   ACCEL_TO_DECEL=   M203 X Y / M204 P T / M205 J; the rest is shown only
SET_PRESSURE_ADVANCE EXTRUDER= ADVANCE= SMOOTH_TIME=   M900 K (smooth time shown only)
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from components.printer.gcode_state import GcodeState, fmt, mode_lines
from components.printer.params import CommandError, Params

if TYPE_CHECKING:
    from components.printer.core import PrinterCore


def _emit(state: GcodeState, lines: list[str]) -> list[str]:
    for line in lines:
        state.apply(line)
    return lines


class MotionCommands:
    def __init__(self, core: PrinterCore) -> None:
        self.core = core

    @property
    def babystepping(self) -> bool:
        return self.core.link.firmware.has("BABYSTEPPING")

    def _set_origin(self, state: GcodeState, origin: list[float]) -> None:
        """The offset a later M290 in these lines will not add (both states)."""
        state.homing_origin = list(origin)
        self.core.gcode.homing_origin = list(origin)

    # -- SAVE / RESTORE --------------------------------------------------------------------

    def save(self, params: Params, state: GcodeState) -> list[str]:
        self.core.saved_states[params.get("NAME", "default")] = state.copy()
        return []

    def restore(self, params: Params, state: GcodeState) -> list[str]:
        name = params.get("NAME", "default")
        saved = self.core.saved_states.get(name)
        if saved is None:
            raise CommandError(f"Unknown g-code state: {name}")
        lines: list[str] = []
        if params.get_flag("MOVE"):
            speed = params.get_float("MOVE_SPEED", saved.feedrate / 60.0, above=0.0)
            x, y, z, _ = saved.position
            lines += ["G90", f"G1 X{fmt(x)} Y{fmt(y)} Z{fmt(z)} F{speed * 60:.0f}"]
        babystep = saved.babystep_z - state.babystep_z
        origin = list(saved.homing_origin)
        if babystep and self.babystepping:
            origin[2] -= babystep  # the M290 below adds it back when it runs
            lines.append(f"M290 Z{fmt(babystep)}")
        self._set_origin(state, origin)
        lines += mode_lines(saved.absolute_coordinates, saved.absolute_extrude)
        if state.position[3] != saved.position[3]:
            lines.append(f"G92 E{saved.position[3]:.5f}")
        if state.feedrate != saved.feedrate:
            lines.append(f"G1 F{saved.feedrate:.0f}")
        if state.speed_factor != saved.speed_factor:
            lines.append(f"M220 S{saved.speed_factor * 100:g}")
        if state.extrude_factor != saved.extrude_factor:
            lines.append(f"M221 S{saved.extrude_factor * 100:g}")
        return _emit(state, lines)

    # -- SET_GCODE_OFFSET ---------------------------------------------------------------------

    def set_offset(self, params: Params, state: GcodeState) -> list[str]:
        origin = list(state.homing_origin)
        delta = [0.0, 0.0, 0.0, 0.0]
        for index, axis in enumerate("XYZE"):
            if axis in params:
                value = params.get_float(axis)
            elif f"{axis}_ADJUST" in params:
                value = origin[index] + params.get_float(f"{axis}_ADJUST")
            else:
                continue
            delta[index] = value - origin[index]
            origin[index] = value
        lines: list[str] = []
        host_delta = list(delta)
        if delta[2] and self.babystepping:
            # the nozzle moves now and the firmware's coordinates stay (M290's ack
            # adds it to homing_origin)
            origin[2] -= delta[2]
            host_delta[2] = 0.0
            lines.append(f"M290 Z{fmt(delta[2])}")
        self._set_origin(state, origin)
        moves = [f"{axis}{fmt(host_delta[i])}" for i, axis in enumerate("XYZ")
                 if host_delta[i]]
        if params.get_flag("MOVE") and moves:
            speed = params.get_float("MOVE_SPEED", state.feedrate / 60.0, above=0.0)
            lines += ["G91", f"G1 {' '.join(moves)} F{speed * 60:.0f}"]
            lines += mode_lines(state.absolute_coordinates, state.absolute_extrude)
            if state.feedrate != speed * 60:
                lines.append(f"G1 F{state.feedrate:.0f}")
        return _emit(state, lines)

    # -- Z_OFFSET_APPLY_ENDSTOP / SAVE_CONFIG ------------------------------------------------

    def apply_endstop(self, params: Params, state: GcodeState) -> list[str]:
        offset = state.homing_origin[2]
        if not offset:
            self.core.respond("// Nothing to do: Z Offset is 0")
            return []
        home = state.home_offset[2] - offset
        lines = [f"M206 Z{fmt(home)}"]
        origin = list(state.homing_origin)
        origin[2] = state.babystep_z  # the host's part is gone; M290 takes back its own
        self._set_origin(state, origin)
        if state.babystep_z:
            lines.append(f"M290 Z{fmt(-state.babystep_z)}")
        self.core.config_pending({"stepper_z": {"home_offset_z": f"{home:.3f}"}})
        self.core.respond(f"// Home offset (M206) Z: {home:.3f}. SAVE_CONFIG stores it in "
                          "the printer's EEPROM (M500).")
        return _emit(state, lines)

    def save_config(self, params: Params, state: GcodeState) -> list[str]:
        self.core.config_pending({})
        return _emit(state, ["M500"])

    # -- GET_POSITION ---------------------------------------------------------------------------

    async def get_position(self, params: Params) -> None:
        core = self.core
        await core.firmware("M114")
        report = core.link_events.last_position
        g = core.gcode
        lines = []
        if report is not None:
            counts = " ".join(f"stepper_{a.lower()}:{n}" for a, n in report.counts.items())
            lines.append(f"mcu: {counts}")
            axes = report.axes
            lines.append("toolhead: " + " ".join(f"{a}:{axes.get(a, 0.0):.6f}"
                                                 for a in "XYZE"))
        gpos = g.gcode_position()
        lines.append("gcode: " + " ".join(f"{a}:{gpos[i]:.6f}" for i, a in enumerate("XYZE")))
        offset = [*g.host_offset(), 0.0]
        lines.append("gcode base: " + " ".join(f"{a}:{offset[i]:.6f}"
                                               for i, a in enumerate("XYZE")))
        lines.append("gcode homing: " + " ".join(f"{a}:{g.homing_origin[i]:.6f}"
                                                 for i, a in enumerate("XYZ")))
        for line in lines:
            core.respond(f"// {line}")

    # -- SET_VELOCITY_LIMIT ---------------------------------------------------------------------

    def velocity_limit(self, params: Params, state: GcodeState) -> list[str]:
        model = self.core.model
        velocity = params.get_opt_float("VELOCITY", above=0.0)
        accel = params.get_opt_float("ACCEL", above=0.0)
        scv = params.get_opt_float("SQUARE_CORNER_VELOCITY", minval=0.0)
        ratio = params.get_opt_float("MINIMUM_CRUISE_RATIO", minval=0.0)
        to_decel = params.get_opt_float("ACCEL_TO_DECEL", above=0.0)
        if ratio is not None and ratio >= 1.0:
            raise params.error("MINIMUM_CRUISE_RATIO must be below 1")
        lines: list[str] = []
        if velocity is not None:
            lines.append(f"M203 X{velocity:g} Y{velocity:g}")
        if accel is not None:
            lines.append(f"M204 P{accel:g} T{accel:g}")
        current = state.motion.get("max_accel") or float(model.get("toolhead", "max_accel"))
        if scv is not None:
            use = accel or current
            lines.append(f"M205 J{scv * scv * (math.sqrt(2.0) - 1.0) / use:.4f}")
        if to_decel is not None:
            use = accel or current
            ratio = 1.0 - min(1.0, to_decel / use)
        if ratio is not None:
            # Marlin has no cruise ratio: Mainsail and Fluidd show what was asked
            self.core.update_object("toolhead", {"minimum_cruise_ratio": ratio})
            self.core.respond("// MINIMUM_CRUISE_RATIO/ACCEL_TO_DECEL: Marlin has no such "
                              "setting; shown, not sent")
        if not lines and ratio is None:
            th = model.object("toolhead")
            for key in ("max_velocity", "max_accel", "minimum_cruise_ratio",
                        "square_corner_velocity"):
                self.core.respond(f"// {key}: {th[key]:.6f}")
        return _emit(state, lines)

    # -- SET_PRESSURE_ADVANCE -------------------------------------------------------------------

    def pressure_advance(self, params: Params, state: GcodeState) -> list[str]:
        extruders = [n for n in self.core.model.get("heaters", "available_heaters", [])
                     if n.startswith("extruder")]
        active = "extruder" if state.active_tool == 0 else f"extruder{state.active_tool}"
        name = params.get("EXTRUDER", active)
        if name not in extruders:
            raise CommandError(f"The value '{name}' is not valid for EXTRUDER. "
                               f"Options: {', '.join(extruders)}")
        advance = params.get_opt_float("ADVANCE", minval=0.0)
        smooth = params.get_opt_float("SMOOTH_TIME", minval=0.0, maxval=0.2)
        lines: list[str] = []
        if advance is not None:
            tool = f" T{int(name[len('extruder'):] or 0)}" if len(extruders) > 1 else ""
            lines.append(f"M900 K{advance:g}{tool}")
        if smooth is not None:
            self.core.update_object(name, {"smooth_time": smooth})
            self.core.respond("// SMOOTH_TIME: Marlin's linear advance has no smooth time; "
                              "shown, not sent")
        if advance is None and smooth is None:
            obj = self.core.model.object(name)
            self.core.respond(f"// pressure_advance: {obj['pressure_advance']:.6f}")
            self.core.respond(f"// pressure_advance_smooth_time: {obj['smooth_time']:.6f}")
        return _emit(state, lines)


def register(core: PrinterCore) -> MotionCommands:
    cmds = MotionCommands(core)
    add = core.table.add_translated
    add("SAVE_GCODE_STATE", cmds.save, "Save G-Code coordinate state")
    add("RESTORE_GCODE_STATE", cmds.restore, "Restore a previously saved G-Code state")
    add("SET_GCODE_OFFSET", cmds.set_offset, "Set a virtual offset to g-code positions")
    add("SET_VELOCITY_LIMIT", cmds.velocity_limit, "Set printer velocity limits")
    add("SET_PRESSURE_ADVANCE", cmds.pressure_advance, "Set pressure advance parameters")
    add("Z_OFFSET_APPLY_ENDSTOP", cmds.apply_endstop,
        "Adjust the z endstop position (Marlin's home offset) by the Z offset")
    add("SAVE_CONFIG", cmds.save_config, "Save the firmware's settings (M500)")
    core.table.add("GET_POSITION", cmds.get_position,
                   "Return information on the current location of the toolhead")
    return cmds
