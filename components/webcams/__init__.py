"""The webcams component (Moonraker's "webcam"): server.webcams.list/get_item/post_item/
delete_item/test.

Cameras come from `[webcam NAME]` sections (source "config": read-only, post and delete
are refused) and from the database namespace "webcams" (source "database"), stored as
Moonraker stores them. `test` opens no connection: it reports the full URLs and
`snapshot_reachable: false`.

Its interface: api.py (WebcamsApi). Websocket notifications: notify_webcams_changed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gateway.component import ComponentSpec

from .api import WebcamsApi
from .camera import Webcam, WebcamSection
from .component import Webcams

if TYPE_CHECKING:
    from gateway.api import ServerApi

__all__ = ["COMPONENT", "Webcam", "WebcamSection", "Webcams", "load_component"]


def load_component(server: ServerApi) -> Webcams:
    return Webcams(server)


COMPONENT = ComponentSpec(load_component, always=True, provides=(WebcamsApi,))
