"""The `[bed_mesh]` section as the printer's `configfile` object lists it.

Klipper lists every config section under `configfile.config` (strings) and
`configfile.settings` (typed); frontends look for `bed_mesh` there.
"""

from __future__ import annotations

from components.bed_mesh.config import BedMeshSection
from components.printer.api import PrinterApi


def section(cfg: BedMeshSection, low: tuple[float, float],
            high: tuple[float, float]) -> tuple[dict[str, str], dict[str, object]]:
    def pair(v: tuple[float, float]) -> str:
        return f"{v[0]:g}, {v[1]:g}"

    config = {"mesh_min": pair(low), "mesh_max": pair(high),
              "probe_command": cfg.probe_command, "report_command": cfg.report_command}
    settings: dict[str, object] = {
        "mesh_min": [low[0], low[1]],
        "mesh_max": [high[0], high[1]],
        "algorithm": "direct",
        "probe_command": cfg.probe_command,
        "report_command": cfg.report_command,
    }
    return config, settings


def publish(printer: PrinterApi, cfg: BedMeshSection,
            low: tuple[float, float], high: tuple[float, float]) -> None:
    printer.add_config_section("bed_mesh", *section(cfg, low, high))
