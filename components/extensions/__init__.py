"""Extensions: agents (companion programs on the websocket), as Moonraker's."""

from __future__ import annotations

from typing import TYPE_CHECKING

from components.extensions.component import Extensions
from components.printer.api import PrinterApi
from gateway.api import AgentHost
from gateway.component import ComponentSpec

if TYPE_CHECKING:
    from gateway.api import ServerApi

__all__ = ["COMPONENT", "Extensions", "load_component"]


def load_component(server: ServerApi) -> Extensions:
    return Extensions(server)


# the printer carries agents' remote methods as G-code commands, when it is loaded
COMPONENT = ComponentSpec(load_component, always=True, provides=(AgentHost,),
                          wants=(PrinterApi,))
