"""The update manager component (`[update_manager]`)."""

from components.printer.api import PrinterApi
from components.update_manager.component import UpdateManager, load_component
from gateway.component import ComponentSpec

__all__ = ["COMPONENT", "UpdateManager", "load_component"]

# loaded with an [update_manager] section
COMPONENT = ComponentSpec(load_component, wants=(PrinterApi,))
