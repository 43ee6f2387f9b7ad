"""`GET/POST /api/settings` and `GET /api/printerprofiles`.

Settings clients change here (the printer's name, the webcam URLs and flips) are kept in
the database namespace `octoprint_compat`; the webcam defaults come from the webcams
component's first camera. Everything else is what OctoPrint's clients read, filled from
our components (SD support, temperature profiles, the printer's size and heaters).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec

from components.octoprint import params as p
from components.octoprint.core import Compat
from components.octoprint.state import Snapshot
from components.octoprint.web import ApiError, Table
from components.webcams.api import WebcamsApi
from components.webcams.camera import Webcam
from gateway.errors import ServerError
from gateway.request import Request

if TYPE_CHECKING:
    from gateway.api import ServerApi

NAMESPACE = "octoprint_compat"
KEY = "settings"
APPEARANCE_FIELDS = {"name": str, "color": str}
WEBCAM_FIELDS = {"streamUrl": str, "snapshotUrl": str, "webcamEnabled": bool,
                 "flipH": bool, "flipV": bool, "rotate90": bool, "streamRatio": str}
TEMPERATURE_PROFILES = [
    {"name": "ABS", "extruder": 210, "bed": 100, "chamber": None},
    {"name": "PLA", "extruder": 180, "bed": 60, "chamber": None},
]


class SettingsStore:
    def __init__(self, server: ServerApi) -> None:
        self.server = server
        self.values: dict[str, dict[str, Any]] = {"appearance": {}, "webcam": {}}
        # changed through POST /api/settings only: clients may read, not write
        server.database.reserve_namespace(NAMESPACE)

    async def load(self) -> None:
        try:
            stored = await self.server.database.get_item(NAMESPACE, KEY)
        except ServerError:
            return  # nothing saved yet
        if isinstance(stored, dict):
            for section in self.values:
                value = stored.get(section)
                if isinstance(value, dict):
                    self.values[section] = value

    async def update(self, data: dict[str, Any]) -> bool:
        """Apply a partial settings object; True if something we keep changed."""
        changed = False
        for section, allowed in (("appearance", APPEARANCE_FIELDS),
                                 ("webcam", WEBCAM_FIELDS)):
            part = data.get(section)
            if part is None:
                continue
            if not isinstance(part, dict):
                raise ApiError(400, f"{section} must be an object")
            for name, value in part.items():
                kind = allowed.get(name)
                if kind is None:
                    continue
                if not isinstance(value, kind) or (isinstance(value, str) and len(value) > 2048):
                    raise ApiError(400, f"Invalid value for {section}.{name}")
                if self.values[section].get(name) != value:
                    self.values[section][name] = value
                    changed = True
        if changed:
            await self.server.database.insert_item(NAMESPACE, KEY, self.values)
        return changed

    @property
    def name(self) -> str:
        return str(self.values["appearance"].get("name", ""))


async def _camera(server: ServerApi) -> Webcam | None:
    source = server.find(WebcamsApi)
    if source is None:
        return None
    for cam in await source.webcams():
        if cam.enabled:
            return cam
    return None


async def webcam_settings(server: ServerApi, store: SettingsStore) -> dict[str, Any]:
    cam = await _camera(server)
    out: dict[str, Any] = {
        "webcamEnabled": cam is not None, "timelapseEnabled": False,
        "streamUrl": cam.stream_url if cam else "",
        "snapshotUrl": cam.snapshot_url if cam else "",
        "streamRatio": "4:3" if cam is not None and cam.aspect_ratio == "4:3" else "16:9",
        "streamTimeout": 5, "streamWebrtcIceServers": [],
        "flipH": cam.flip_horizontal if cam else False,
        "flipV": cam.flip_vertical if cam else False,
        "rotate90": cam.rotation in (90, 270) if cam else False,
        "ffmpegPath": None, "bitrate": None, "ffmpegThreads": 1, "watermark": False,
        "cacheBuster": False, "snapshotTimeout": 5, "snapshotSslValidation": True,
    }
    out.update(store.values["webcam"])
    return out


def settings_body(app: Compat, store: SettingsStore, webcam: dict[str, Any],
                  serial: dict[str, Any]) -> dict[str, Any]:
    appearance = {"name": store.name, "color": "default", "colorTransparent": False,
                  "colorIcon": True, "defaultLanguage": "_default",
                  "showFahrenheitAlso": False, "fuzzyTimes": True,
                  "closeModalsWithClick": True, "showInternalFilename": True}
    appearance.update(store.values["appearance"])
    return {
        "api": {"allowCrossOrigin": False},
        "appearance": appearance,
        "feature": {"sdSupport": True, "temperatureGraph": True, "gcodeViewer": True,
                    "keyboardControl": True, "pollWatched": False,
                    "modelSizeDetection": True, "rememberFileFolder": False,
                    "printStartConfirmation": False, "printCancelConfirmation": True,
                    "uploadOverwriteConfirmation": True, "g90InfluencesExtruder": False,
                    "autoUppercaseBlacklist": ["M117", "M118"], "sizeThreshold": 20971520},
        "gcodeAnalysis": {"runAt": "idle", "bedZ": 0.0},
        "temperature": {"profiles": TEMPERATURE_PROFILES, "cutoff": 30,
                        "sendAutomatically": False, "sendAutomaticallyAfter": 1},
        "webcam": webcam,
        "serial": serial,
        "folder": {"uploads": None, "timelapse": None, "watched": None},
        "plugins": {},
        "scripts": {"gcode": {}},
        "server": {"commands": {"serverRestartCommand": None, "systemRestartCommand": None,
                                "systemShutdownCommand": None},
                   "allowFraming": False},
        "system": {"actions": [], "events": None},
        "slicing": {"defaultSlicer": None},
        "terminalFilters": [],
        "controls": [],
        "accessControl": {"autologinLocal": False},
        "devel": {"pluginTimings": False},
    }


def printer_profile(snap: Snapshot, name: str) -> dict[str, Any]:
    """Our printer as OctoPrint's one (default, current) printer profile."""
    settings = snap.settings

    def span(axis: str, default: float) -> float:
        stepper = settings.get(f"stepper_{axis}")
        if not isinstance(stepper, dict):
            return default
        low, high = stepper.get("position_min"), stepper.get("position_max")
        if isinstance(low, (int, float)) and isinstance(high, (int, float)):
            return float(high - low)
        return default

    extruders = [k for k in settings if k == "extruder" or
                 (k.startswith("extruder") and k[8:].isdigit())]
    extruder = settings.get("extruder")
    nozzle = extruder.get("nozzle_diameter", 0.4) if isinstance(extruder, dict) else 0.4
    count = max(1, len(extruders))
    return {
        "id": "_default", "name": name or "Default", "model": "Marlin printer (Skysail)",
        "color": "default", "current": True, "default": True,
        "resource": "/api/printerprofiles/_default",
        "heatedBed": "heater_bed" in settings, "heatedChamber": False,
        "axes": {"x": {"speed": 6000, "inverted": False}, "y": {"speed": 6000, "inverted": False},
                 "z": {"speed": 200, "inverted": False}, "e": {"speed": 300, "inverted": False}},
        "extruder": {"count": count, "nozzleDiameter": nozzle, "sharedNozzle": False,
                     "offsets": [[0.0, 0.0] for _ in range(count)],
                     "defaultExtrusionLength": 5},
        "volume": {"width": span("x", 220.0), "depth": span("y", 220.0),
                   "height": span("z", 250.0), "formFactor": "rectangular",
                   "origin": "lowerleft", "custom_box": False},
    }


class SettingsRoutes:
    def __init__(self, app: Compat, store: SettingsStore,
                 serial: Any) -> None:
        self.app = app
        self.store = store
        self.serial = serial

    def routes(self) -> Table:
        return {
            "/api/settings": ("settings", {"GET": (self.get, None),
                                           "POST": (self.post, p.SettingsArgs)}),
            "/api/printerprofiles": ("printerprofiles", {"GET": (self.profiles, None)}),
            "/api/printerprofiles/{ident}": ("printerprofile", {
                "GET": (self.profile, p.ProfileArgs)}),
        }

    async def get(self, request: Request) -> object:
        webcam = await webcam_settings(self.app.server, self.store)
        return settings_body(self.app, self.store, webcam, self.serial())

    async def post(self, args: p.SettingsArgs, request: Request) -> object:
        # the sections given, with the fields given, in the wire's names
        data = msgspec.to_builtins(args)
        if await self.store.update(data):
            self.app.emit("SettingsUpdated", {})
        return await self.get(request)

    async def profiles(self, request: Request) -> object:
        profile = printer_profile(self.app.snapshot(with_settings=True), self.store.name)
        return {"profiles": {"_default": profile}}

    async def profile(self, args: p.ProfileArgs, request: Request) -> object:
        if args.ident != "_default":
            raise ApiError(404, "Unknown profile")
        return printer_profile(self.app.snapshot(with_settings=True), self.store.name)
