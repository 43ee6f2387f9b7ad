"""The webcams component (Moonraker's "webcam"): server.webcams.list/get_item/post_item/
delete_item/test.

Cameras come from `[webcam NAME]` sections (source "config": read-only, post and delete
are refused) and from the database namespace "webcams" (source "database"), stored as
Moonraker stores them. `test` opens no connection: it reports the full URLs and
`snapshot_reachable: false`.

Events emitted:
    webcams:changed(payload)   {"webcams": [...]} after every change through the API

Websocket notifications: notify_webcams_changed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .camera import Webcam, WebcamSection
from .component import WEBCAMS_CHANGED, Webcams

if TYPE_CHECKING:
    from gateway.app import Server

__all__ = ["WEBCAMS_CHANGED", "Webcam", "WebcamSection", "Webcams", "load_component"]


def load_component(server: Server) -> Webcams:
    return Webcams(server)
