"""The Spoolman component (`[spoolman]`)."""

from components.printer.api import PrinterApi
from components.spoolman.component import Spoolman, load_component
from gateway.component import ComponentSpec

__all__ = ["COMPONENT", "Spoolman", "load_component"]

# loaded with a [spoolman] section; counts the printer's extrusion when there is one
COMPONENT = ComponentSpec(load_component, wants=(PrinterApi,))
