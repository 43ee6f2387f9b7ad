"""A webcam as Moonraker describes it: from a `[webcam NAME]` section (read-only) or
from the database (namespace "webcams", key = uid, Moonraker's camelCase field names)."""

from __future__ import annotations

import re
import uuid
from dataclasses import asdict, dataclass, field, fields

import msgspec

SOURCE_CONFIG = "config"
SOURCE_DATABASE = "database"
ROTATIONS = (0, 90, 180, 270)
DEFAULT_HOST = "http://127.0.0.1"
# config cameras get a stable uid from their name
_UID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/skysail/webcam")

# our field -> the database's field (Moonraker's layout, so a copied database still reads)
DB_FIELDS = {
    "name": "name",
    "service": "service",
    "target_fps": "targetFps",
    "stream_url": "urlStream",
    "snapshot_url": "urlSnapshot",
    "flip_horizontal": "flipX",
    "flip_vertical": "flipY",
    "enabled": "enabled",
    "target_fps_idle": "targetFpsIdle",
    "aspect_ratio": "aspectRatio",
    "icon": "icon",
    "location": "location",
    "rotation": "rotation",
    "extra_data": "extra_data",
}


class WebcamSection(msgspec.Struct, kw_only=True):
    """`[webcam NAME]`: Moonraker's options and defaults."""

    stream_url: str = ""
    snapshot_url: str = ""
    enabled: bool = True
    icon: str = "mdiWebcam"
    aspect_ratio: str = "4:3"
    target_fps: int = 15
    target_fps_idle: int = 5
    location: str = "printer"
    service: str = "mjpegstreamer"
    flip_horizontal: bool = False
    flip_vertical: bool = False
    rotation: int = 0

    def __post_init__(self) -> None:
        if not self.stream_url:
            raise ValueError("option 'stream_url': required (the camera's stream URL)")
        problem = check_values(self.rotation, self.aspect_ratio)
        if problem:
            raise ValueError(problem)


def check_values(rotation: int, aspect_ratio: str) -> str | None:
    """Moonraker's message for an impossible value, or None."""
    if rotation not in ROTATIONS:
        return f"Invalid value for 'rotation': {rotation}"
    prefix, sep, postfix = aspect_ratio.partition(":")
    if not (prefix.isdigit() and sep == ":" and postfix.isdigit()):
        return f"Invalid value for 'aspect_ratio': {aspect_ratio}"
    return None


@dataclass(slots=True)
class Webcam:
    # declared in the order Moonraker lists the fields
    name: str
    enabled: bool = True
    icon: str = "mdiWebcam"
    aspect_ratio: str = "4:3"
    target_fps: int = 15
    target_fps_idle: int = 5
    location: str = "printer"
    service: str = "mjpegstreamer"
    stream_url: str = ""
    snapshot_url: str = ""
    flip_horizontal: bool = False
    flip_vertical: bool = False
    rotation: int = 0
    source: str = SOURCE_DATABASE
    extra_data: dict[str, object] = field(default_factory=dict)
    uid: str = ""

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    def to_database(self) -> dict[str, object]:
        return {db: getattr(self, ours) for ours, db in DB_FIELDS.items()}

    @classmethod
    def from_section(cls, name: str, section: WebcamSection) -> Webcam:
        values = msgspec.structs.asdict(section)
        uid = str(uuid.uuid5(_UID_NAMESPACE, f"skysail.webcam.{name}"))
        return cls(name=name, source=SOURCE_CONFIG, uid=uid, **values)

    @classmethod
    def from_database(cls, uid: str, data: dict[str, object]) -> Webcam:
        """Tolerant, as Moonraker: missing fields take their defaults."""
        cam = cls(name=str(data["name"]), uid=uid)
        for ours, db in DB_FIELDS.items():
            if ours == "name" or db not in data:
                continue
            value = data[db]
            if ours == "extra_data":
                cam.extra_data = value if isinstance(value, dict) else {}
                continue
            setattr(cam, ours, type(getattr(cam, ours))(value))
        rotate = data.get("rotate")
        if "rotation" not in data and isinstance(rotate, int | float | str):
            cam.rotation = int(rotate)
        return cam


# fields a client may change (uid and source are ours)
EDITABLE = tuple(f.name for f in fields(Webcam) if f.name not in ("uid", "source"))


def full_url(url: str) -> str:
    """A partial URL ("/webcam/?action=stream") is on the default host, as Moonraker."""
    if not url:
        return ""
    if re.match(r"\w+://[^/]+", url):
        return url
    return f"{DEFAULT_HOST}/{url.lstrip('/')}"
