"""The bed_mesh component's doors, all in the method table (so access control applies as
to every route):

* `bed_mesh.get` (`GET /server/bed_mesh`): the `bed_mesh` object plus the levelling
  system and whether it is enabled; `refresh=true` reads the firmware first.
* `POST /api/plugin/bedlevelvisualizer` `{"command": "mesh"}`: the Bed Level Visualizer
  plugin's call: reads the mesh from the firmware and answers `{"mesh", "bed"}` (inside
  the method table's `{"result": ...}`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from gateway.registry import Params
from gateway.request import Request

if TYPE_CHECKING:
    from components.bed_mesh.component import BedMesh
    from gateway.api import ServerApi

BLV_PATH = "/api/plugin/bedlevelvisualizer"


class GetArgs(Params):
    refresh: bool = False


class BlvArgs(Params):
    command: Literal["mesh"]


def register(server: ServerApi, bed_mesh: BedMesh) -> None:
    async def get(args: GetArgs, request: Request) -> dict[str, object]:
        if args.refresh:
            await bed_mesh.refresh()
        mesh = bed_mesh.mesh
        return {
            "bed_mesh": bed_mesh.status(),
            "leveling": mesh.leveling if mesh is not None else None,
            "enabled": bed_mesh.active,
        }

    async def blv(args: BlvArgs, request: Request) -> dict[str, object]:
        await bed_mesh.refresh()
        return bed_mesh.blv()

    server.register_endpoint("bed_mesh.get", get, params=GetArgs, http="GET /server/bed_mesh")
    server.register_endpoint("bed_mesh.bedlevelvisualizer", blv, params=BlvArgs,
                             http=f"POST {BLV_PATH}", websocket=False, requires_printer=True)
