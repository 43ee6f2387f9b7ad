"""The mesh as this component keeps it, and the shapes it is published in: Klipper's
`bed_mesh` status object and the Bed Level Visualizer plugin's `{"mesh", "bed"}`."""

from __future__ import annotations

from dataclasses import dataclass

import msgspec

from components.printer.api import MeshMatrix as Matrix
from components.printer.api import MeshReport

XY = tuple[float, float]
LEVELING_KINDS = ("bilinear", "ubl", "mbl")
# Klipper's default; Marlin's meshes are not interpolated by us ("direct", 0 pps)
TENSION = 0.2


class _Bounds(msgspec.Struct):
    min_x: float
    min_y: float
    max_x: float
    max_y: float


class _Record(msgspec.Struct):
    """A saved profile as the database holds it (other mesh_params are derived)."""

    points: list[list[float | None]]
    mesh_params: _Bounds
    leveling: str = "bilinear"


@dataclass(slots=True)
class Mesh:
    points: Matrix  # [y][x], front row first; None = not probed
    mesh_min: XY
    mesh_max: XY
    leveling: str = "bilinear"

    @property
    def x_count(self) -> int:
        return max((len(row) for row in self.points), default=0)

    @property
    def y_count(self) -> int:
        return len(self.points)

    def params(self) -> dict[str, object]:
        return {
            "min_x": self.mesh_min[0],
            "max_x": self.mesh_max[0],
            "min_y": self.mesh_min[1],
            "max_y": self.mesh_max[1],
            "x_count": self.x_count,
            "y_count": self.y_count,
            "mesh_x_pps": 0,
            "mesh_y_pps": 0,
            "algo": "direct",
            "tension": TENSION,
        }

    def point_xy(self, ix: int, iy: int) -> XY:
        """Bed coordinates of mesh point (ix, iy)."""
        def along(lo: float, hi: float, i: int, count: int) -> float:
            return lo if count < 2 else lo + (hi - lo) * i / (count - 1)

        return (along(self.mesh_min[0], self.mesh_max[0], ix, self.x_count),
                along(self.mesh_min[1], self.mesh_max[1], iy, self.y_count))

    def to_record(self) -> dict[str, object]:
        """What a saved profile holds (database)."""
        return {"points": [list(r) for r in self.points], "mesh_params": self.params(),
                "leveling": self.leveling}

    @classmethod
    def from_record(cls, record: object) -> Mesh:
        """A saved profile; ValueError naming what is wrong with it."""
        try:
            r = msgspec.convert(record, _Record, strict=False)
        except msgspec.ValidationError as exc:
            raise ValueError(str(exc)) from None
        p = r.mesh_params
        return cls(r.points, (p.min_x, p.min_y), (p.max_x, p.max_y),
                   r.leveling if r.leveling in LEVELING_KINDS else "bilinear")


def mesh_from_report(report: MeshReport, default_min: XY, default_max: XY) -> Mesh:
    """The report's own bounds when it has them, else the configured/printer ones."""
    return Mesh(
        [list(row) for row in report.points],
        report.mesh_min or default_min,
        report.mesh_max or default_max,
        report.leveling,
    )


def filled(points: Matrix) -> list[list[float]]:
    """Unprobed points replaced by the mean of the probed ones (frontends need numbers)."""
    known = [v for row in points for v in row if v is not None]
    mean = round(sum(known) / len(known), 6) if known else 0.0
    return [[mean if v is None else v for v in row] for row in points]


def klipper_status(mesh: Mesh | None, profile_name: str,
                   profiles: dict[str, Mesh]) -> dict[str, object]:
    """Klipper's `bed_mesh` object."""
    status: dict[str, object] = {
        "profile_name": "",
        "mesh_min": [0.0, 0.0],
        "mesh_max": [0.0, 0.0],
        "probed_matrix": [[]],
        "mesh_matrix": [[]],
        "profiles": {name: {"points": filled(m.points), "mesh_params": m.params()}
                     for name, m in sorted(profiles.items())},
    }
    if mesh is not None and mesh.points:
        status.update({
            "profile_name": profile_name,
            "mesh_min": list(mesh.mesh_min),
            "mesh_max": list(mesh.mesh_max),
            "probed_matrix": [list(r) for r in mesh.points],
            "mesh_matrix": filled(mesh.points),
        })
    return status


def blv_payload(mesh: Mesh | None, z_limits: XY) -> dict[str, object]:
    """The Bed Level Visualizer's `mesh_data_collected` payload: rows front to back."""
    bed: dict[str, object] = {"type": "rectangular", "z_min": z_limits[0], "z_max": z_limits[1]}
    if mesh is None:
        bed.update({"x_min": 0.0, "x_max": 0.0, "y_min": 0.0, "y_max": 0.0})
        return {"mesh": [], "bed": bed}
    bed.update({"x_min": mesh.mesh_min[0], "x_max": mesh.mesh_max[0],
                "y_min": mesh.mesh_min[1], "y_max": mesh.mesh_max[1]})
    return {"mesh": [list(r) for r in mesh.points], "bed": bed}
