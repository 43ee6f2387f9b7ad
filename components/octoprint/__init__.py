"""OctoPrint-compatible REST API and push channel (see component.py, docs/octoprint.md)."""

from __future__ import annotations

from components.files.api import FilesApi
from components.octoprint.component import OctoPrintCompat, load_component
from components.printer.api import PrinterApi
from components.timelapse.api import TimelapseApi
from components.webcams.api import WebcamsApi
from gateway.component import ComponentSpec

__all__ = ["COMPONENT", "OctoPrintCompat", "load_component"]

COMPONENT = ComponentSpec(load_component, always=True,
                          wants=(PrinterApi, FilesApi, WebcamsApi, TimelapseApi))
