"""The bed_mesh component: Marlin's levelling mesh as Klipper's `bed_mesh` object.

It reads the mesh the firmware prints (PrinterApi.read_mesh; the text is parsed in
gateway/hostlink/protocol/mesh.py), keeps named profiles in the database,
publishes `bed_mesh` through the printer component and adds the console commands
BED_MESH_CALIBRATE [PROFILE=], BED_MESH_PROFILE SAVE=|LOAD=|REMOVE= and BED_MESH_CLEAR.
Its doors (endpoints.py): JSON-RPC `bed_mesh.get` and the Bed Level Visualizer plugin's
`POST /api/plugin/bedlevelvisualizer {"command": "mesh"}`.

Events consumed: none. Emits none.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from components.bed_mesh import configfile, endpoints
from components.bed_mesh.config import BedMeshSection
from components.bed_mesh.mesh import XY, Mesh, blv_payload, klipper_status, mesh_from_report
from components.bed_mesh.store import NAMESPACE as PROFILES_NAMESPACE
from components.bed_mesh.store import load_profiles, save_profiles
from components.printer.api import MeshReport, NotHomed, PrinterApi
from gateway.component import BaseComponent
from gateway.errors import BadRequest, NotFound, PrinterNotReady, ServerError

if TYPE_CHECKING:
    from gateway.api import ServerApi

log = logging.getLogger(__name__)

OBJECT = "bed_mesh"
# the name shown for a mesh read from the firmware that matches no profile we loaded
FIRMWARE_PROFILE = "firmware"


class BedMesh(BaseComponent):
    def __init__(self, server: ServerApi) -> None:
        self.server = server
        self.config = server.config.section("bed_mesh", BedMeshSection)
        self.mesh: Mesh | None = None  # the firmware's mesh as last seen
        self.active = False  # levelling enabled with that mesh
        self.profile_name = ""
        self.profiles: dict[str, Mesh] = {}
        self._lock = asyncio.Lock()
        # profiles change through BED_MESH_PROFILE only: clients may read, not write
        server.database.reserve_namespace(PROFILES_NAMESPACE)
        self.printer = server.lookup(PrinterApi)
        endpoints.register(server, self)

    async def start(self) -> None:
        self.printer.add_object(OBJECT, self.status())
        reg = self.printer.register_command
        reg("BED_MESH_CALIBRATE", self._calibrate_cmd, "Perform Mesh Bed Leveling")
        reg("BED_MESH_PROFILE", self._profile_cmd, "Bed Mesh Persistent Storage management")
        reg("BED_MESH_CLEAR", self._clear_cmd, "Clear the Mesh so no z-adjustment is made")
        self.profiles = await load_profiles(self.server.database)
        configfile.publish(self.printer, self.config, *self.default_bounds())
        self._publish()

    # -- state ----------------------------------------------------------------------------

    def status(self) -> dict[str, object]:
        shown = self.mesh if self.active else None
        return klipper_status(shown, self.profile_name, self.profiles)

    def _publish(self) -> None:
        self.printer.update_object(OBJECT, self.status())

    def _set(self, mesh: Mesh | None, active: bool, name: str) -> None:
        self.mesh, self.active = mesh, active and mesh is not None
        self.profile_name = name if self.active else ""
        self._publish()

    def blv(self) -> dict[str, object]:
        return blv_payload(self.mesh, self._axis_limits(2))

    # -- talking to the firmware --------------------------------------------------------------

    def _ready_printer(self) -> PrinterApi:
        if self.printer.state != "ready":
            raise PrinterNotReady("bed_mesh: the printer is not ready")
        return self.printer

    async def _read(self, script: str) -> MeshReport | None:
        return await self._ready_printer().read_mesh(script)

    def _axis_limits(self, axis: int) -> XY:
        toolhead = self.printer.query_status(
            {"toolhead": ["axis_minimum", "axis_maximum"]}).get("toolhead", {})
        low, high = toolhead.get("axis_minimum"), toolhead.get("axis_maximum")
        if not (isinstance(low, list) and isinstance(high, list)):
            return (0.0, 0.0)
        return (float(low[axis]), float(high[axis]))

    def default_bounds(self) -> tuple[XY, XY]:
        cfg = self.config
        if cfg.mesh_min is not None and cfg.mesh_max is not None:
            return cfg.mesh_min, cfg.mesh_max
        (x0, x1), (y0, y1) = self._axis_limits(0), self._axis_limits(1)
        return (x0, y0), (x1, y1)

    def _mesh_of(self, report: MeshReport) -> Mesh:
        low, high = self.default_bounds()
        return mesh_from_report(report, low, high)

    async def refresh(self) -> Mesh | None:
        """Read the firmware's current mesh (report_command) and publish it."""
        async with self._lock:
            report = await self._read(self.config.report_command)
            if report is None:
                self._set(None, False, "")
                return None
            mesh = self._mesh_of(report)
            name = self.profile_name if self._same(mesh, self.mesh) else FIRMWARE_PROFILE
            self._set(mesh, report.enabled is not False, name or FIRMWARE_PROFILE)
            return mesh

    @staticmethod
    def _same(a: Mesh | None, b: Mesh | None) -> bool:
        return a is not None and b is not None and a.points == b.points

    # -- commands --------------------------------------------------------------------------

    async def calibrate(self, profile: str | None = None) -> Mesh:
        name = profile or self.config.default_profile
        async with self._lock:
            try:
                report = await self._read(self.config.probe_command)
            except NotHomed:
                raise BadRequest("BED_MESH_CALIBRATE: the printer must be homed first "
                                 "(add G28 to [bed_mesh] probe_command)") from None
            if report is None:
                report = await self._read(self.config.report_command)
            if report is None:
                raise ServerError("BED_MESH_CALIBRATE: the firmware reported no mesh", 500)
            mesh = self._mesh_of(report)
            self.profiles[name] = mesh
            await save_profiles(self.server.database, self.profiles)
            self._set(mesh, True, name)
        self._say(f"Mesh Bed Leveling Complete, saved as profile [{name}]")
        return mesh

    async def save_profile(self, name: str) -> None:
        if self.mesh is None or not self.active:
            raise BadRequest("BED_MESH_PROFILE: no mesh loaded to save")
        self.profiles[name] = self.mesh
        await save_profiles(self.server.database, self.profiles)
        self._set(self.mesh, True, name)
        self._say(f"Bed mesh saved to profile [{name}]")

    async def remove_profile(self, name: str) -> None:
        if self.profiles.pop(name, None) is None:
            raise NotFound(f"BED_MESH_PROFILE: unknown profile [{name}]")
        await save_profiles(self.server.database, self.profiles)
        self._publish()
        self._say(f"Profile [{name}] removed")

    async def load_profile(self, name: str) -> None:
        mesh = self.profiles.get(name)
        if mesh is None:
            raise NotFound(f"BED_MESH_PROFILE: unknown profile [{name}]")
        async with self._lock:
            await self._ready_printer().run_gcode("\n".join([*write_commands(mesh), "M420 S1"]))
            self._set(mesh, True, name)
        self._say(f"Bed mesh profile [{name}] loaded")

    async def clear(self) -> None:
        async with self._lock:
            await self._ready_printer().run_gcode("M420 S0")
            self._set(self.mesh, False, "")

    def _say(self, text: str) -> None:
        self.printer.respond(f"// {text}")

    # -- console handlers -------------------------------------------------------------------

    async def _calibrate_cmd(self, _name: str, params: dict[str, str]) -> None:
        await self.calibrate(params.get("PROFILE") or None)

    async def _profile_cmd(self, _name: str, params: dict[str, str]) -> None:
        actions = {"SAVE": self.save_profile, "LOAD": self.load_profile,
                   "REMOVE": self.remove_profile}
        chosen = [(key, params[key]) for key in actions if params.get(key)]
        if len(chosen) != 1:
            raise BadRequest("BED_MESH_PROFILE: give one of SAVE=, LOAD= or REMOVE= "
                             "with a profile name")
        key, name = chosen[0]
        await actions[key](name)

    async def _clear_cmd(self, _name: str, _params: dict[str, str]) -> None:
        await self.clear()


def write_commands(mesh: Mesh) -> list[str]:
    """M421 lines that put `mesh` into the firmware: by index, or by position for the
    manual mesh (MBL); UBL also marks unprobed points (N)."""
    lines: list[str] = []
    for iy, row in enumerate(mesh.points):
        for ix, z in enumerate(row):
            if z is None:
                if mesh.leveling == "ubl":
                    lines.append(f"M421 I{ix} J{iy} N")
            elif mesh.leveling == "mbl":
                x, y = mesh.point_xy(ix, iy)
                lines.append(f"M421 X{x:.3f} Y{y:.3f} Z{z:.5f}")
            else:
                lines.append(f"M421 I{ix} J{iy} Z{z:.4f}")
    return lines


def load_component(server: ServerApi) -> BedMesh:
    return BedMesh(server)
