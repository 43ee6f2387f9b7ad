"""The update manager component (`[update_manager]`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from components.printer.api import PrinterApi
from gateway.component import ComponentSpec

if TYPE_CHECKING:
    from components.update_manager.component import UpdateManager
    from gateway.api import ServerApi

__all__ = ["COMPONENT", "load_component"]


def load_component(server: ServerApi) -> UpdateManager:
    # imported here: without an [update_manager] section none of it is loaded
    from components.update_manager.component import UpdateManager

    return UpdateManager(server)


# loaded with an [update_manager] section
COMPONENT = ComponentSpec(load_component, wants=(PrinterApi,))
