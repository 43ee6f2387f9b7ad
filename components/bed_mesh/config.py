"""The `[bed_mesh]` section, typed (options documented in docs/bed_mesh.md)."""

from __future__ import annotations

import msgspec


class BedMeshSection(msgspec.Struct, kw_only=True):
    # what BED_MESH_CALIBRATE sends (UBL printers: e.g. "G28\nG29 P1\nG29 P3\nG29 A",
    # manual mesh: "G29 S1")
    probe_command: str = "G28\nG29"
    # what reads the current mesh back when the probe command did not print it
    report_command: str = "M420 V"
    # mesh bounds for reports that carry none (bilinear, manual mesh); without them the
    # printer's axis limits are used
    mesh_min: tuple[float, float] | None = None
    mesh_max: tuple[float, float] | None = None
    # the profile BED_MESH_CALIBRATE saves to, as Klipper's "default"
    default_profile: str = "default"

    def __post_init__(self) -> None:
        if not self.probe_command.strip():
            raise ValueError("option 'probe_command': expected G-code, got nothing")
        if not self.report_command.strip():
            raise ValueError("option 'report_command': expected G-code, got nothing")
        if (self.mesh_min is None) != (self.mesh_max is None):
            raise ValueError("option 'mesh_min'/'mesh_max': expected both or neither")
        if self.mesh_min is not None and self.mesh_max is not None and not (
            self.mesh_min[0] < self.mesh_max[0] and self.mesh_min[1] < self.mesh_max[1]
        ):
            raise ValueError(
                f"option 'mesh_max': expected above mesh_min {self.mesh_min}, "
                f"got {self.mesh_max}"
            )
        if not self.default_profile.strip():
            raise ValueError("option 'default_profile': expected a name, got nothing")
