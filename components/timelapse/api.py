"""What other components may rely on from the timelapse component (loaded with a
[timelapse] section): `server.find(TimelapseApi)` (OctoPrint's /api/timelapse)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class TimelapseApi(Protocol):
    async def octoprint_listing(self) -> dict[str, object]:
        """OctoPrint's `GET /api/timelapse` answer: config, enabled, files, unrendered."""

    async def octoprint_configure(self, data: dict[str, object]) -> dict[str, object]:
        """OctoPrint's `POST /api/timelapse` body (type off|zchange|timed, fps,
        interval) applied; answers as octoprint_listing."""
