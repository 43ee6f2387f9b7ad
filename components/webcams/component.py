"""server.webcams.*: cameras from `[webcam NAME]` sections (read-only) and from the
database (added by the frontends). Nothing here opens a camera or fetches a URL."""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING, Any

from components.webcams.api import WebcamsApi
from components.webcams.camera import (
    EDITABLE,
    SOURCE_CONFIG,
    Webcam,
    WebcamSection,
    check_values,
    full_url,
)
from gateway.component import BaseComponent
from gateway.errors import BadRequest, NotFound
from gateway.request import Request

if TYPE_CHECKING:
    from gateway.api import ServerApi

NAMESPACE = "webcams"


class Webcams(BaseComponent, WebcamsApi):
    moonraker_names = ("webcam",)

    def __init__(self, server: ServerApi) -> None:
        self.server = server
        self.db = server.database
        self.configured: dict[str, Webcam] = {}
        for name in server.config.prefixed_sections("webcam"):
            section = server.config.section(f"webcam {name}", WebcamSection)
            self.configured[name] = Webcam.from_section(name, section)
        self._lock = asyncio.Lock()
        reg = server.register_endpoint
        reg("server.webcams.list", self.list_webcams, http="GET /server/webcams/list")
        reg("server.webcams.test", self.test_webcam, http="POST /server/webcams/test")
        server.registry.register_rest(
            "server.webcams.item",
            "/server/webcams/item",
            {"GET": self.get_item, "POST": self.post_item, "DELETE": self.delete_item},
        )

    # -- storage ---------------------------------------------------------------------

    async def _stored(self) -> list[Webcam]:
        try:
            items = await self.db.get_item(NAMESPACE)
        except NotFound:
            return []
        cams: list[Webcam] = []
        if not isinstance(items, dict):
            return cams
        for uid, data in items.items():
            if not isinstance(data, dict) or "name" not in data:
                continue
            try:
                cam = Webcam.from_database(uid, data)
            except (TypeError, ValueError):
                continue
            # a configured camera of the same name wins, as in Moonraker
            if cam.name not in self.configured:
                cams.append(cam)
        # a stable order (the database's is by uid, i.e. random)
        return sorted(cams, key=lambda c: c.name)

    async def webcams(self) -> list[Webcam]:
        return [*self.configured.values(), *await self._stored()]

    async def _lookup(self, request: Request, required: bool = True) -> Webcam | None:
        cams = await self.webcams()
        if request.has("uid"):
            uid = request.get_str("uid")
            for cam in cams:
                if cam.uid == uid:
                    return cam
            raise NotFound(f"Webcam with UID {uid} not found")
        name = request.get_str("name")
        for cam in cams:
            if cam.name == name:
                return cam
        if required:
            raise NotFound(f"Webcam {name} not found")
        return None

    async def _changed(self) -> None:
        payload = {"webcams": [c.as_dict() for c in await self.webcams()]}
        self.server.send_notification("notify_webcams_changed", [payload])

    # -- endpoints -------------------------------------------------------------------

    async def list_webcams(self, request: Request) -> dict[str, Any]:
        return {"webcams": [c.as_dict() for c in await self.webcams()]}

    async def get_item(self, request: Request) -> dict[str, Any]:
        cam = await self._lookup(request)
        assert cam is not None
        return {"webcam": cam.as_dict()}

    async def post_item(self, request: Request) -> dict[str, Any]:
        async with self._lock:
            cam = await self._lookup(request, required=False)
            if cam is None:
                cam = Webcam(
                    name=request.get_str("name"),
                    stream_url=request.get_str("stream_url"),
                    uid=await self._new_uid(),
                )
            elif cam.source == SOURCE_CONFIG:
                raise BadRequest(
                    f"Cannot overwrite webcam '{cam.name}' sourced from Moonraker configuration"
                )
            else:
                await self._check_rename(cam, request.get_str("name", None))
            _apply(cam, request)
            problem = check_values(cam.rotation, cam.aspect_ratio)
            if problem:
                raise BadRequest(problem)
            await self.db.insert_item(NAMESPACE, cam.uid, cam.to_database())
            await self._changed()
        return {"webcam": cam.as_dict()}

    async def delete_item(self, request: Request) -> dict[str, Any]:
        async with self._lock:
            cam = await self._lookup(request)
            assert cam is not None
            if cam.source == SOURCE_CONFIG:
                raise BadRequest(
                    f"Cannot delete webcam '{cam.name}' sourced from Moonraker configuration"
                )
            await self.db.delete_item(NAMESPACE, cam.uid)
            await self._changed()
        return {"webcam": cam.as_dict()}

    async def test_webcam(self, request: Request) -> dict[str, Any]:
        """Moonraker fetches the snapshot URL here; we do not reach out to cameras, so
        the answer gives the URLs in full and `snapshot_reachable: false`."""
        cam = await self._lookup(request)
        assert cam is not None
        return {
            "name": cam.name,
            "snapshot_reachable": False,
            "snapshot_url": full_url(cam.snapshot_url),
            "stream_url": full_url(cam.stream_url),
        }

    async def _check_rename(self, cam: Webcam, new_name: str | None) -> None:
        if new_name is None or new_name == cam.name:
            return
        if any(c.name == new_name for c in await self.webcams()):
            raise BadRequest(
                f"Cannot rename webcam from '{cam.name}' to '{new_name}'.  Webcam with "
                f"requested name '{new_name}' already exists."
            )

    async def _new_uid(self) -> str:
        taken = {c.uid for c in await self.webcams()}
        while True:
            uid = str(uuid.uuid4())
            if uid not in taken:
                return uid


def _apply(cam: Webcam, request: Request) -> None:
    """Set the fields the request names, converted to each field's type."""
    for name in EDITABLE:
        if not request.has(name):
            continue
        current = getattr(cam, name)
        value: Any
        if isinstance(current, bool):
            value = request.get_bool(name)
        elif isinstance(current, int):
            value = request.get_int(name)
        elif isinstance(current, dict):
            value = request.get_dict(name)
        else:
            value = request.get_str(name)
        if value is None:
            raise BadRequest(f"Invalid value for '{name}': null")
        setattr(cam, name, value)
