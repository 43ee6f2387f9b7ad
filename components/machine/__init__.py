"""Host statistics and description for the ``machine.*`` API namespace."""

from __future__ import annotations

from typing import TYPE_CHECKING

from components.machine.proc_stats import (
    HISTORY_SIZE,
    MoonrakerStat,
    NetIfaceStats,
    ProcStatNotify,
    ProcStatsResult,
    ProcStatsSampler,
    SystemMemory,
    ThrottledState,
    decode_throttled,
)
from components.machine.system_info import (
    collect_canbus,
    collect_cpu_info,
    collect_distribution,
    collect_network,
    collect_sd_info,
    collect_system_info,
    collect_virtualization,
)
from components.printer.api import PrinterApi
from gateway.component import ComponentSpec

__all__ = [
    "COMPONENT",
    "HISTORY_SIZE",
    "MoonrakerStat",
    "NetIfaceStats",
    "ProcStatNotify",
    "ProcStatsResult",
    "ProcStatsSampler",
    "SystemMemory",
    "ThrottledState",
    "collect_canbus",
    "collect_cpu_info",
    "collect_distribution",
    "collect_network",
    "collect_sd_info",
    "collect_system_info",
    "collect_virtualization",
    "decode_throttled",
]


if TYPE_CHECKING:
    from components.machine.component import Machine
    from gateway.api import ServerApi


def load_component(server: ServerApi) -> Machine:
    from components.machine.component import Machine

    return Machine(server)


COMPONENT = ComponentSpec(load_component, always=True, wants=(PrinterApi,))
