"""The job queue: a persistent print queue behind Moonraker's job_queue API and the
Continuous Print plugin's API (see docs/queue.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from components.files.api import FilesApi
from components.printer.api import PrinterApi
from gateway.component import ComponentSpec

from .component import QueueComponent

if TYPE_CHECKING:
    from gateway.api import ServerApi


def load_component(server: ServerApi) -> QueueComponent:
    return QueueComponent(server)


COMPONENT = ComponentSpec(load_component, always=True, needs=(PrinterApi, FilesApi))
