"""Timelapse: webcam frames per layer (or every N seconds) while printing, rendered to
MP4 with ffmpeg after the print; moonraker-timelapse's API, OctoPrint's timelapse API and
an Octolapse status subset. See docs/timelapse.md and component.py for events."""

from __future__ import annotations

from typing import TYPE_CHECKING

from components.files.api import FilesApi
from components.printer.api import PrinterApi
from components.timelapse.api import TimelapseApi
from components.webcams.api import WebcamsApi
from gateway.component import ComponentSpec

if TYPE_CHECKING:
    from components.timelapse.component import Timelapse
    from gateway.api import ServerApi

__all__ = ["COMPONENT", "load_component"]


def load_component(server: ServerApi) -> Timelapse:
    # imported here: the OctoPrint routes import api.py, which must not load the rest
    from components.timelapse.component import Timelapse

    return Timelapse(server)


# loaded with a [timelapse] section
COMPONENT = ComponentSpec(load_component, provides=(TimelapseApi,), needs=(FilesApi,),
                          wants=(PrinterApi, WebcamsApi))
