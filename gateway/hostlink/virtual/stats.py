"""Counters the virtual printer keeps about the traffic and the motion it saw."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass
class VirtualPrinterStats:
    """A snapshot of the simulator's counters.

    ``motion_time`` and ``starvation_time`` are simulated seconds (wall seconds multiplied
    by ``time_scale``) so their ratio does not depend on the scale.
    """

    planner_starvations: int = 0
    starvation_time: float = 0.0
    motion_time: float = 0.0
    lines_received: int = 0
    commands_executed: int = 0
    checksum_errors: int = 0
    line_number_errors: int = 0
    resends_requested: int = 0
    rx_overflows: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    port_opens: int = 0  # times a host opened the port (a USB board resets on each)

    def copy(self) -> VirtualPrinterStats:
        return dataclasses.replace(self)
