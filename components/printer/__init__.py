"""The printer component (see api.py for its interface and events)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from components.printer.component import Printer
    from gateway.app import Server


def load_component(server: Server) -> Printer:
    from components.printer.component import Printer

    return Printer(server)
