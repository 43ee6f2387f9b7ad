"""The mesh model: Klipper's shape, the Bed Level Visualizer's shape, M421 lines, profile
storage and the [bed_mesh] options."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.bed_mesh.component import write_commands
from components.bed_mesh.config import BedMeshSection
from components.bed_mesh.mesh import Mesh, blv_payload, filled, klipper_status, mesh_from_report
from components.bed_mesh.store import load_profiles, save_profiles
from components.printer.api import MeshReport
from gateway.config import Config, ConfigError
from gateway.database import Database

MESH = Mesh([[0.1, -0.2, 0.0], [None, 0.3, -0.1]], (10.0, 20.0), (110.0, 120.0), "bilinear")


def test_klipper_status_empty_and_with_a_mesh() -> None:
    empty = klipper_status(None, "x", {})
    assert empty == {"profile_name": "", "mesh_min": [0.0, 0.0], "mesh_max": [0.0, 0.0],
                     "probed_matrix": [[]], "mesh_matrix": [[]], "profiles": {}}
    status = klipper_status(MESH, "default", {"default": MESH})
    assert status["profile_name"] == "default"
    assert status["mesh_min"] == [10.0, 20.0] and status["mesh_max"] == [110.0, 120.0]
    assert status["probed_matrix"] == [[0.1, -0.2, 0.0], [None, 0.3, -0.1]]
    assert status["mesh_matrix"][1][0] == pytest.approx(0.02)  # mean of the probed points
    assert status["profiles"]["default"]["mesh_params"] == {
        "min_x": 10.0, "max_x": 110.0, "min_y": 20.0, "max_y": 120.0,
        "x_count": 3, "y_count": 2, "mesh_x_pps": 0, "mesh_y_pps": 0,
        "algo": "direct", "tension": 0.2,
    }
    assert filled([[None]]) == [[0.0]]


def test_bed_level_visualizer_shape() -> None:
    assert blv_payload(MESH, (0.0, 250.0)) == {
        "mesh": [[0.1, -0.2, 0.0], [None, 0.3, -0.1]],
        "bed": {"type": "rectangular", "x_min": 10.0, "x_max": 110.0, "y_min": 20.0,
                "y_max": 120.0, "z_min": 0.0, "z_max": 250.0},
    }
    assert blv_payload(None, (0.0, 1.0))["mesh"] == []


def test_report_bounds_win_over_configured_ones() -> None:
    report = MeshReport("ubl", [[0.0, 0.0]], (5.0, 6.0), (7.0, 8.0))
    assert mesh_from_report(report, (0.0, 0.0), (1.0, 1.0)).mesh_min == (5.0, 6.0)
    report.mesh_min = report.mesh_max = None
    assert mesh_from_report(report, (0.0, 0.0), (1.0, 1.0)).mesh_max == (1.0, 1.0)


def test_m421_lines_per_levelling_system() -> None:
    assert write_commands(MESH) == [
        "M421 I0 J0 Z0.1000", "M421 I1 J0 Z-0.2000", "M421 I2 J0 Z0.0000",
        "M421 I1 J1 Z0.3000", "M421 I2 J1 Z-0.1000",
    ]
    ubl = Mesh(MESH.points, MESH.mesh_min, MESH.mesh_max, "ubl")
    assert write_commands(ubl)[3] == "M421 I0 J1 N"
    mbl = Mesh(MESH.points, MESH.mesh_min, MESH.mesh_max, "mbl")
    assert write_commands(mbl)[:2] == ["M421 X10.000 Y20.000 Z0.10000",
                                       "M421 X60.000 Y20.000 Z-0.20000"]
    assert write_commands(mbl)[-1] == "M421 X110.000 Y120.000 Z-0.10000"


async def test_profiles_survive_in_the_database(tmp_path: Path) -> None:
    db = Database(tmp_path / "db.sqlite")
    try:
        assert await load_profiles(db) == {}
        await save_profiles(db, {"a.b": MESH})
        assert await load_profiles(db) == {"a.b": MESH}
        await db.insert_item("bed_mesh", ["profiles"], {"ok": MESH.to_record(), "bad": {}})
        assert list(await load_profiles(db)) == ["ok"]
    finally:
        db.close()


def _section(tmp_path: Path, text: str) -> BedMeshSection:
    path = tmp_path / "moonraker.conf"
    path.write_text("[bed_mesh]\n" + text)
    return Config.load(path).section("bed_mesh", BedMeshSection)


def test_config_options(tmp_path: Path) -> None:
    cfg = _section(tmp_path, "probe_command: G28\n  G29 P1\nmesh_min: 1, 2\nmesh_max: 3,4\n")
    assert cfg.probe_command == "G28\nG29 P1"
    assert cfg.mesh_min == (1.0, 2.0) and cfg.mesh_max == (3.0, 4.0)
    assert BedMeshSection().probe_command == "G28\nG29"
    with pytest.raises(ConfigError, match="mesh_max"):
        _section(tmp_path, "mesh_min: 5, 5\nmesh_max: 3, 4\n")
    with pytest.raises(ConfigError, match="both or neither"):
        _section(tmp_path, "mesh_min: 5, 5\n")
