"""Host statistics and description for the ``machine.*`` API namespace, and the
printer's ``system_stats`` object."""

from __future__ import annotations

from typing import TYPE_CHECKING

from components.printer.api import PrinterApi
from gateway.component import ComponentSpec

if TYPE_CHECKING:
    from components.machine.component import Machine
    from gateway.api import ServerApi


def load_component(server: ServerApi) -> Machine:
    from components.machine.component import Machine

    return Machine(server)


COMPONENT = ComponentSpec(load_component, always=True, wants=(PrinterApi,))
