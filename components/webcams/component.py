"""server.webcams.*: cameras from `[webcam NAME]` sections (read-only) and from the
database (added by the frontends). Nothing here opens a camera or fetches a URL."""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING

from msgspec import UNSET, UnsetType

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
from gateway.errors import BadRequest, InvalidParams, NotFound
from gateway.registry import Params
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
        reg("server.webcams.test", self.test_webcam, params=CamArgs,
            http="POST /server/webcams/test")
        server.registry.register_rest(
            "server.webcams.item",
            "/server/webcams/item",
            {"GET": self.get_item, "POST": self.post_item, "DELETE": self.delete_item},
            params={"GET": CamArgs, "POST": WebcamArgs, "DELETE": CamArgs},
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

    async def _lookup(self, args: CamArgs, required: bool = True) -> Webcam | None:
        cams = await self.webcams()
        if args.uid is not None:
            for cam in cams:
                if cam.uid == args.uid:
                    return cam
            raise NotFound(f"Webcam with UID {args.uid} not found")
        name = args.name
        if name is None:
            raise InvalidParams("No data for argument: name")
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

    async def list_webcams(self, request: Request) -> dict[str, object]:
        return {"webcams": [c.as_dict() for c in await self.webcams()]}

    async def get_item(self, args: CamArgs, request: Request) -> dict[str, object]:
        cam = await self._lookup(args)
        assert cam is not None
        return {"webcam": cam.as_dict()}

    async def post_item(self, args: WebcamArgs, request: Request) -> dict[str, object]:
        async with self._lock:
            cam = await self._lookup(args, required=False)
            if cam is None:
                if isinstance(args.stream_url, UnsetType):
                    raise InvalidParams("No data for argument: stream_url")
                assert args.name is not None  # _lookup asked for it
                cam = Webcam(name=args.name, stream_url=args.stream_url,
                             uid=await self._new_uid())
            elif cam.source == SOURCE_CONFIG:
                raise BadRequest(
                    f"Cannot overwrite webcam '{cam.name}' sourced from Moonraker configuration"
                )
            else:
                await self._check_rename(cam, args.name)
            _apply(cam, args)
            problem = check_values(cam.rotation, cam.aspect_ratio)
            if problem:
                raise BadRequest(problem)
            await self.db.insert_item(NAMESPACE, cam.uid, cam.to_database())
            await self._changed()
        return {"webcam": cam.as_dict()}

    async def delete_item(self, args: CamArgs, request: Request) -> dict[str, object]:
        async with self._lock:
            cam = await self._lookup(args)
            assert cam is not None
            if cam.source == SOURCE_CONFIG:
                raise BadRequest(
                    f"Cannot delete webcam '{cam.name}' sourced from Moonraker configuration"
                )
            await self.db.delete_item(NAMESPACE, cam.uid)
            await self._changed()
        return {"webcam": cam.as_dict()}

    async def test_webcam(self, args: CamArgs, request: Request) -> dict[str, object]:
        """Moonraker fetches the snapshot URL here; we do not reach out to cameras, so
        the answer gives the URLs in full and `snapshot_reachable: false`."""
        cam = await self._lookup(args)
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


class CamArgs(Params):
    """A camera named by uid (first) or by name."""

    uid: str | None = None
    name: str | None = None


class WebcamArgs(CamArgs):
    """post_item: the fields to set (absent ones keep their value)."""

    enabled: bool | UnsetType = UNSET
    icon: str | UnsetType = UNSET
    aspect_ratio: str | UnsetType = UNSET
    target_fps: int | UnsetType = UNSET
    target_fps_idle: int | UnsetType = UNSET
    location: str | UnsetType = UNSET
    service: str | UnsetType = UNSET
    stream_url: str | UnsetType = UNSET
    snapshot_url: str | UnsetType = UNSET
    flip_horizontal: bool | UnsetType = UNSET
    flip_vertical: bool | UnsetType = UNSET
    rotation: int | UnsetType = UNSET
    extra_data: dict[str, object] | UnsetType = UNSET


def _apply(cam: Webcam, args: WebcamArgs) -> None:
    """Set the fields the request names."""
    for name in EDITABLE:
        value = getattr(args, name)
        if value is not None and not isinstance(value, UnsetType):
            setattr(cam, name, value)
