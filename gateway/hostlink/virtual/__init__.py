"""The built-in virtual printer: a simulated Marlin 2.1 on a pseudo-terminal.

It is what Skysail talks to when no serial port is configured, what the integration tests
run against and what the streaming benchmark measures.  It keeps Marlin's flow-control
limits (RX ring, command slots, planner blocks) and wire pacing so host bugs show up.
"""

from .config import VirtualPrinterConfig
from .printer import VirtualPrinter
from .stats import VirtualPrinterStats

__all__ = ["VirtualPrinter", "VirtualPrinterConfig", "VirtualPrinterStats"]
