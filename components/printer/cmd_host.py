"""Klipper's commands about the host, the print and the console:

HELP, STATUS, RESPOND PREFIX= TYPE= MSG=, SET_DISPLAY_TEXT MSG= (M117), QUERY_ENDSTOPS
(M119), FIRMWARE_RESTART, RESTART, PAUSE, RESUME, CANCEL_PRINT, SDCARD_PRINT_FILE,
SDCARD_RESET_FILE, SET_PRINT_STATS_INFO, SET_PAUSE_NEXT_LAYER, SET_PAUSE_AT_LAYER and
the EXCLUDE_OBJECT family (M486 P<index> for a print from the printer's SD card).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from components.printer.gcode_state import GcodeState
from components.printer.params import CommandError, Params

if TYPE_CHECKING:
    from components.printer.core import PrinterCore

RESPOND_TYPES = {"echo": "echo:", "echo_no_space": "echo:", "command": "//", "error": "!!"}


def parse_endstops(replies: list[str]) -> dict[str, str]:
    """M119's `x_min: open` lines → {"x": "open", …} (Moonraker's and Klipper's keys)."""
    out: dict[str, str] = {}
    for line in replies:
        name, sep, value = line.partition(":")
        if not sep or name.strip() == "Reporting endstop status":
            continue
        axis = name.strip().split("_")[0].lower()
        out[axis if axis not in out else name.strip().lower()] = value.strip()
    return out


class HostCommands:
    def __init__(self, core: PrinterCore) -> None:
        self.core = core
        # set by the component of the current server generation (needs the files)
        self.start_print: Callable[[str], Awaitable[None]] | None = None

    async def help(self, params: Params) -> None:
        for line in self.core.table.help_lines():
            self.core.respond(f"// {line}")

    async def status(self, params: Params) -> None:
        core = self.core
        if core.state != "ready":
            raise CommandError(f"{core.state_message}\nKlipper state: Not ready")
        firmware = core.link.firmware.name or "Marlin"
        core.respond("// Klipper state: Ready")
        core.respond(f"// Firmware: {firmware} on {core.setup.serial.port}")

    async def respond(self, params: Params) -> None:
        kind = params.get("TYPE", "echo").lower()
        if kind not in RESPOND_TYPES:
            raise params.error(f"invalid TYPE '{kind}' (echo, echo_no_space, command, "
                               "error)")
        prefix = params.get("PREFIX", RESPOND_TYPES[kind])
        message = params.get("MSG", "")
        space = "" if kind == "echo_no_space" and "PREFIX" not in params else " "
        self.core.respond(f"{prefix}{space}{message}")

    def display_text(self, params: Params, state: GcodeState) -> list[str]:
        message = params.get("MSG", "").replace("\n", " ")
        line = f"M117 {message}".rstrip()
        state.apply(line)
        return [line]

    async def query_endstops(self, params: Params) -> None:
        states = parse_endstops(await self.core.firmware("M119"))
        self.core.respond(" ".join(f"{name}:{value}" for name, value in states.items()))

    async def firmware_restart(self, params: Params) -> None:
        await self.core.firmware_restart()

    async def restart(self, params: Params) -> None:
        await self.core.restart()

    async def pause(self, params: Params) -> None:
        await self.core.pause_print()

    async def resume(self, params: Params) -> None:
        await self.core.resume_print()

    async def cancel(self, params: Params) -> None:
        await self.core.cancel_print()

    async def sdcard_print_file(self, params: Params) -> None:
        filename = params.get_str("FILENAME")
        if self.start_print is None:
            raise CommandError("No file manager loaded")
        await self.start_print(filename)

    async def sdcard_reset_file(self, params: Params) -> None:
        if self.core.busy:
            raise CommandError("SDCARD_RESET_FILE cannot be run while a print is in "
                               "progress; cancel it first")
        self.core.clear_job()

    def print_stats_info(self, params: Params, state: GcodeState) -> list[str]:
        core = self.core
        info = dict(core.model.get("print_stats", "info", {}))
        if "TOTAL_LAYER" in params:
            info["total_layer"] = params.get_int("TOTAL_LAYER", minval=0)
            info["current_layer"] = info.get("current_layer") or 0
        if "CURRENT_LAYER" in params:
            info["current_layer"] = params.get_int("CURRENT_LAYER", minval=0)
        core.update_object("print_stats", {"info": info})
        return []

    def exclude(self, params: Params, state: GcodeState) -> list[str]:
        core = self.core
        excluder = core.excluder
        if not core.sd.active or params.get_flag("RESET") or not (
                "NAME" in params or params.get_flag("CURRENT")):
            return excluder.exclude(params)
        # the printer's own SD print: Marlin's object cancelling (CANCEL_OBJECTS)
        name = (params.get("NAME") or excluder.current or "").upper()
        index = int(name) if name.isdigit() else excluder.index_of(name)
        if index is None:
            raise CommandError(f"Unknown object '{name}' (for an SD print, the object's "
                               "number as the file's M486 S lines give it)")
        excluder.exclude_name(name)
        return [f"M486 P{index}"]


def register(core: PrinterCore) -> HostCommands:
    cmds = HostCommands(core)
    add, translated = core.table.add, core.table.add_translated
    add("HELP", cmds.help, "Report the list of available extended G-Code commands")
    add("STATUS", cmds.status, "Report the printer status")
    add("RESPOND", cmds.respond, "Echo the message prepended with a prefix")
    translated("SET_DISPLAY_TEXT", cmds.display_text, "Set or clear the display message")
    add("QUERY_ENDSTOPS", cmds.query_endstops, "Report on the status of each endstop")
    add("FIRMWARE_RESTART", cmds.firmware_restart, "Restart firmware, reconnect to it")
    add("RESTART", cmds.restart, "Reconnect to the printer")
    add("PAUSE", cmds.pause, "Pause the current print")
    add("RESUME", cmds.resume, "Resume the paused print")
    add("CANCEL_PRINT", cmds.cancel, "Cancel the current print")
    add("SDCARD_PRINT_FILE", cmds.sdcard_print_file, "Loads a SD file and starts the print")
    add("SDCARD_RESET_FILE", cmds.sdcard_reset_file, "Clears a loaded SD File")
    translated("SET_PRINT_STATS_INFO", cmds.print_stats_info,
               "Pass slicer info like layer act and total to the printer")
    translated("SET_PAUSE_NEXT_LAYER", core.layer_pause.set_next_layer,
               "Pause (or run MACRO) when the next layer starts")
    translated("SET_PAUSE_AT_LAYER", core.layer_pause.set_at_layer,
               "Pause (or run MACRO) when LAYER starts")
    excluder = core.excluder
    translated("EXCLUDE_OBJECT", cmds.exclude, "Cancel moves inside a specified objects")
    translated("EXCLUDE_OBJECT_DEFINE", excluder.define, "Provides a summary of an object")
    translated("EXCLUDE_OBJECT_START", excluder.start, "Marks the beginning the current "
               "object as labeled")
    translated("EXCLUDE_OBJECT_END", excluder.end, "Marks the end the current object")
    return cmds
