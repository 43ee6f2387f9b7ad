"""server.database.*: namespaces (with the protection components declare) and the
file's maintenance (compact, backups, restore)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from components.database.component import DatabaseComponent
from components.printer.api import PrinterApi
from gateway.component import ComponentSpec

if TYPE_CHECKING:
    from gateway.api import ServerApi

__all__ = ["COMPONENT", "DatabaseComponent", "load_component"]


def load_component(server: ServerApi) -> DatabaseComponent:
    return DatabaseComponent(server)


# the printer, when loaded, says whether a print runs (no maintenance then)
COMPONENT = ComponentSpec(load_component, always=True, wants=(PrinterApi,))
