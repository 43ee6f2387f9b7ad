"""The printer component (see api.py for its interface and events)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from components.files.api import FilesApi
from components.printer.api import PrinterApi
from gateway.component import ComponentSpec

if TYPE_CHECKING:
    from components.printer.component import Printer
    from gateway.api import ServerApi


def load_component(server: ServerApi) -> Printer:
    from components.printer.component import Printer

    return Printer(server)


COMPONENT = ComponentSpec(load_component, always=True, provides=(PrinterApi,),
                          wants=(FilesApi,))
