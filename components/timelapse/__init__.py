"""Timelapse: webcam frames per layer (or every N seconds) while printing, rendered to
MP4 with ffmpeg after the print; moonraker-timelapse's API, OctoPrint's timelapse API and
an Octolapse status subset. See docs/timelapse.md and component.py for events."""

from __future__ import annotations

from typing import TYPE_CHECKING

from components.timelapse.component import Timelapse

if TYPE_CHECKING:
    from gateway.app import Server

__all__ = ["Timelapse", "load_component"]


def load_component(server: Server) -> Timelapse:
    return Timelapse(server)
