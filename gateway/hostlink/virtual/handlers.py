"""G-code dispatch: which handler runs a parsed command, per the configured features."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from . import cmd_host, cmd_mesh, cmd_motion, cmd_sd, cmd_thermal, cmd_tuning
from .config import VirtualPrinterConfig
from .parser import Gcode

if TYPE_CHECKING:
    from .firmware import Firmware

Handler = Callable[["Firmware", Gcode], "bool | None"]

position_report = cmd_motion.position_report
sd_report = cmd_sd.sd_report
sd_abort = cmd_sd.sd_abort
sd_write_line = cmd_sd.sd_write_line
is_m29 = cmd_sd.is_m29


def build_table(cfg: VirtualPrinterConfig) -> dict[tuple[str, int], Handler]:
    table: dict[tuple[str, int], Handler] = {}
    table.update(cmd_motion.TABLE)
    table.update(cmd_thermal.TABLE)
    table.update(cmd_host.TABLE)
    table.update(cmd_mesh.table(cfg))
    table.update(cmd_tuning.TABLE)
    if cfg.babystepping:
        table.update(cmd_tuning.BABYSTEP_TABLE)
    if cfg.cancel_objects:
        table.update(cmd_tuning.CANCEL_OBJECTS_TABLE)
    if cfg.autoreport_pos:
        table.update(cmd_motion.AUTOREPORT_POS_TABLE)
    if cfg.autoreport_temp:
        table.update(cmd_thermal.AUTOREPORT_TEMP_TABLE)
    if cfg.heated_chamber:
        table.update(cmd_thermal.CHAMBER_TABLE)
    if cfg.sdcard:
        table.update(cmd_sd.TABLE)
    if cfg.host_action_commands and cfg.prompt_support:
        table.update(cmd_host.PROMPT_TABLE)
    if cfg.software_power:
        table.update(cmd_host.POWER_TABLE)
    return table


def known(fw: Firmware, gc: Gcode) -> bool:
    """Whether the firmware has a handler: an unknown command (often the tail of a line
    torn by an RX flush) is answered, but nothing is executed."""
    return gc.letter == "T" or (bool(gc.letter) and (gc.letter, gc.code) in fw.table)


def run(fw: Firmware, gc: Gcode) -> bool:
    """Execute ``gc``; True when the handler sent its own ``ok`` (or none is due)."""
    if gc.letter == "T":
        cmd_host.tool_change(fw, gc)
        return False
    fn = fw.table.get((gc.letter, gc.code)) if gc.letter else None
    if fw.tuning.skipping and gc.letter == "G" and gc.code in (0, 1, 2, 3):
        return False  # a cancelled object's move (M486)
    if fn is None:
        fw.echo(f'Unknown command: "{gc.text}"')
        return False
    return bool(fn(fw, gc))
