"""What other components may rely on from the webcams component:
`server.find(WebcamsApi)` (OctoPrint's settings, the timelapse camera)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from components.webcams.camera import Webcam


@runtime_checkable
class WebcamsApi(Protocol):
    async def webcams(self) -> list[Webcam]:
        """Every camera: configured ([webcam NAME]) first, then those the frontends
        stored, by name."""
