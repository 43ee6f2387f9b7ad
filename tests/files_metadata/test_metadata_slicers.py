"""Every field, per slicer, from the committed samples."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from components.files.metadata import extract_metadata

from .make_samples import SAMPLES_DIR, build_samples

BASE_KEYS = ("size", "modified", "uuid", "file_processors", "slicer", "slicer_version")
TAIL_KEYS = ("print_start_time", "job_id", "filename")

EXPECTED: dict[str, dict[str, Any]] = {
    "prusaslicer.gcode": {
        "slicer": "PrusaSlicer",
        "slicer_version": "2.7.1+linux-x64-GTK3",
        "gcode_start_byte": 2461,
        "gcode_end_byte": 8288,
        "layer_count": 30,
        "object_height": 6.0,
        "estimated_time": 726,
        "nozzle_diameter": 0.4,
        "layer_height": 0.2,
        "first_layer_height": 0.2,
        "first_layer_extr_temp": 215.0,
        "first_layer_bed_temp": 60.0,
        "filament_name": "Generic PLA",
        "filament_type": "PLA",
        "filament_colors": ["#FF8000"],
        "extruder_colors": [],
        "filament_temps": [210],
        "referenced_tools": [],
        "mmu_print": 0,
        "filament_total": 903.45,
        "filament_weight_total": 2.69,
        "filament_weights": [2.69],
        "printer_vendor": "",
        "printer_model": "MK3S",
        "printer_variant": "0.4",
    },
    "superslicer.gcode": {
        "slicer": "SuperSlicer",
        "slicer_version": "2.5.59.2",
        "gcode_start_byte": 241,
        "gcode_end_byte": 2244,
        "object_height": 2.04,
        "estimated_time": 93784,  # 1d 2h 3m 4s
        "nozzle_diameter": 0.6,
        "layer_height": 0.2,
        "first_layer_height": 0.24,  # 120% of 0.2
        "first_layer_extr_temp": 240.0,
        "first_layer_bed_temp": 65.0,
        "chamber_temp": 40.0,
        "filament_name": json.dumps(['PLA "Fancy"', "Generic PETG"]),
        "filament_type": json.dumps(["PLA", "PETG"]),
        "filament_colors": ["#FFFFFF", "#000000"],
        "filament_change_count": 3,
        "extruder_colors": ["#FF0000", "#00FF00"],
        "filament_temps": [235, 230],
        "referenced_tools": [0, 1],
        "mmu_print": 1,
        "filament_total": 600.75,
        "filament_weight_total": 1.8,
        "filament_weights": [1.5, 0.3],
    },
    "orcaslicer.gcode": {
        "slicer": "OrcaSlicer",
        "slicer_version": "2.1.1",
        "gcode_start_byte": 3909,
        "gcode_end_byte": 11580,
        "layer_count": 50,
        "object_height": 10.05,
        "estimated_time": 3723,
        "nozzle_diameter": 0.4,
        "layer_height": 0.2,
        "first_layer_height": 0.25,
        "first_layer_extr_temp": 245.0,
        "first_layer_bed_temp": 75.0,  # textured plate
        "chamber_temp": 0.0,
        "filament_name": "Generic PETG @System",
        "filament_type": "PETG",
        "filament_colors": ["#1A1A1A"],
        "extruder_colors": [],
        "filament_temps": [240],
        "referenced_tools": [],
        "filament_total": 1234.56,
        "filament_weight_total": 3.77,
        "filament_weights": [3.77],
        "printer_model": "Voron 2.4 350",
    },
    "bambustudio.gcode": {
        "slicer": "BambuStudio",
        "slicer_version": "01.08.04.51",
        "gcode_start_byte": 1703,
        "gcode_end_byte": 2848,
        "layer_count": 127,
        "object_height": 35.48,
        "estimated_time": 1376,  # total estimated time: 22m 56s
        "nozzle_diameter": 0.4,
        "layer_height": 0.28,
        "first_layer_height": 0.2,
        "first_layer_extr_temp": 225.0,
        "first_layer_bed_temp": 35.0,  # cool plate
        "chamber_temp": 0.0,
        "filament_name": "Bambu PLA Basic @BBL A1M",
        "filament_type": "PLA",
        "filament_colors": ["#ECA514FF"],
        "extruder_colors": [],
        "filament_temps": [220],
        "referenced_tools": [],
        "filament_total": 2020.12,
        "filament_weight_total": 6.03,
        "printer_model": "Bambu Lab A1 mini",
    },
    "cura.gcode": {
        "slicer": "Cura",
        "slicer_version": "5.6.0",
        "gcode_start_byte": 1819,
        "gcode_end_byte": 8405,
        "layer_count": 50,
        "object_height": 10.1,
        "estimated_time": 6666.0,
        "nozzle_diameter": 0.4,
        "layer_height": 0.2,
        "first_layer_height": 0.3,
        "first_layer_extr_temp": 200.0,
        "first_layer_bed_temp": 60.0,
        "filament_name": "Generic PLA",
        "filament_type": "PLA",
        "filament_total": 1234.56,
        "filament_weight_total": 3.68,
        "filament_weights": [3.68],
    },
    "cura_griffin.gcode": {
        "slicer": "Cura",
        "slicer_version": "5.6.0",
        "gcode_start_byte": 701,
        "gcode_end_byte": 1416,
        "layer_count": 75,
        "object_height": 15.07,
        "estimated_time": 4321.0,
        "nozzle_diameter": 0.4,
        "first_layer_height": 0.27,
        "first_layer_extr_temp": 215.0,
        "first_layer_bed_temp": 60.0,
        "chamber_temp": 28.0,
    },
    "simplify3d_v4.gcode": {
        "slicer": "Simplify3D",
        "slicer_version": "4.1.2",
        "gcode_start_byte": 565,
        "gcode_end_byte": 3461,
        "object_height": 3.98,
        "estimated_time": 3720,
        "nozzle_diameter": 0.4,
        "layer_height": 0.2,
        "first_layer_height": 0.18,
        "first_layer_extr_temp": 215.0,
        "first_layer_bed_temp": 60.0,
        "filament_name": "PLA",
        "filament_type": "PLA",
        "filament_total": 1234.5,
        "filament_weight_total": 3.68,
    },
    "simplify3d_v5.gcode": {
        "slicer": "Simplify3D",
        "slicer_version": "5.1.2",
        "gcode_start_byte": 458,
        "gcode_end_byte": 1850,
        "object_height": 3.0,
        "estimated_time": 9000,
        "nozzle_diameter": 0.6,
        "layer_height": 0.3,
        "first_layer_height": 0.3,
        "first_layer_extr_temp": 240.0,
        "first_layer_bed_temp": 80.0,
        "filament_name": "PETG",
        "filament_total": 4321.0,
        "filament_weight_total": 12.5,
    },
    "ideamaker.gcode": {
        "slicer": "IdeaMaker",
        "slicer_version": "4.4.1.6311",
        "gcode_start_byte": 294,
        "gcode_end_byte": 1068,
        "object_height": 12.3,
        "estimated_time": 6789.0,
        "nozzle_diameter": 0.4,
        "layer_height": 0.2,
        "first_layer_height": 0.3,
        "first_layer_extr_temp": 210.0,
        "first_layer_bed_temp": 60.0,
        "filament_name": "[Raise3D] PLA",
        "filament_type": "PLA",
        "filament_total": 1000.0,
        "filament_weight_total": 2.98255,  # pi/4 * 1.75^2 mm^2 * 1000 mm * 1.24 g/cm^3
    },
    "kisslicer.gcode": {
        "slicer": "KISSlicer",
        "slicer_version": "2.0.3-Release-Linux64",
        "gcode_start_byte": 294,
        "gcode_end_byte": 1698,
        "object_height": 1.7,
        "estimated_time": 7407.0,
        "nozzle_diameter": 0.4,
        "layer_height": 0.2,
        "first_layer_height": 0.3,
        "first_layer_extr_temp": 215.0,
        "first_layer_bed_temp": 60.0,
        "chamber_temp": 35.0,
        "filament_total": 1234.56,
    },
    "unknown.gcode": {
        "slicer": "Unknown",
        "slicer_version": "?",
        "gcode_start_byte": 25,
        "gcode_end_byte": 159,
        "object_height": 0.7,
        "first_layer_height": 0.3,
        "first_layer_extr_temp": 210.0,
        "first_layer_bed_temp": 60.0,
    },
    "generic.gcode": {
        "slicer": "FlashPrint",
        "slicer_version": "5.8.1",
        "gcode_start_byte": 60,
        "gcode_end_byte": 148,
        "object_height": 0.4,
        "first_layer_height": 0.2,
    },
}

# (width, height, relative_path) in listing order; miniatures come first.
EXPECTED_THUMBS: dict[str, list[tuple[int, int, str]]] = {
    "prusaslicer.gcode": [
        (32, 24, ".thumbs/prusaslicer-32x32.png"),
        (16, 16, ".thumbs/prusaslicer-16x16.png"),
        (64, 48, ".thumbs/prusaslicer-64x48.png"),
    ],
    "superslicer.gcode": [(40, 30, ".thumbs/superslicer-40x30.jpg")],
    "orcaslicer.gcode": [
        (24, 24, ".thumbs/orcaslicer-32x32.png"),
        (24, 24, ".thumbs/orcaslicer-24x24.png"),
    ],
    "bambustudio.gcode": [(32, 32, ".thumbs/bambustudio-32x32.png")],
    "cura.gcode": [
        (32, 32, ".thumbs/cura-32x32.png"),
        (48, 48, ".thumbs/cura-48x48.png"),
    ],
}


def test_samples_are_up_to_date() -> None:
    for name, text in build_samples().items():
        assert (SAMPLES_DIR / name).read_text(encoding="utf-8") == text, name
    assert set(EXPECTED) == set(build_samples())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fields(name: str, sample: Callable[[str], Path]) -> None:
    path = sample(name)
    md = extract_metadata(path, path.parent.parent / "gcodes")
    st = path.stat()
    thumbs = md.pop("thumbnails", None)
    assert md.pop("uuid") != ""
    assert md.pop("modified") == st.st_mtime
    expected = {
        "size": st.st_size,
        "file_processors": [],
        **EXPECTED[name],
        "print_start_time": None,
        "job_id": None,
        "filename": name,
    }
    assert md == expected
    # Moonraker's key order: basics, parsed fields, thumbnails, job fields.
    keys = list(md)
    assert keys[: len(BASE_KEYS) - 2] == ["size", "file_processors", "slicer", "slicer_version"]
    assert keys[-3:] == list(TAIL_KEYS)
    if name in EXPECTED_THUMBS:
        assert isinstance(thumbs, list)
        got = [(t["width"], t["height"], t["relative_path"]) for t in thumbs]
        assert got == EXPECTED_THUMBS[name]
        for t in thumbs:
            assert (path.parent / t["relative_path"]).stat().st_size == t["size"]
    else:
        assert thumbs is None


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_json_round_trip(name: str, sample: Callable[[str], Path]) -> None:
    md = extract_metadata(sample(name))
    assert json.loads(json.dumps(md)) == md


def test_filename_is_relative_to_root(tmp_path: Path) -> None:
    sub = tmp_path / "gcodes" / "parts"
    sub.mkdir(parents=True)
    path = sub / "cube.gcode"
    path.write_bytes((SAMPLES_DIR / "prusaslicer.gcode").read_bytes())
    md = extract_metadata(path, tmp_path / "gcodes")
    assert md["filename"] == "parts/cube.gcode"
    thumbs = md["thumbnails"]
    assert isinstance(thumbs, list)
    # relative to the G-code file's own directory, as Moonraker reports it
    assert thumbs[1]["relative_path"] == ".thumbs/cube-16x16.png"
    assert (sub / ".thumbs" / "cube-16x16.png").is_file()
    assert extract_metadata(path, relative_path="x/y.gcode")["filename"] == "x/y.gcode"
    assert extract_metadata(path)["filename"] == "cube.gcode"


def test_uuid_is_fresh_unless_given(sample: Callable[[str], Path]) -> None:
    path = sample("unknown.gcode")
    assert extract_metadata(path)["uuid"] != extract_metadata(path)["uuid"]
    assert extract_metadata(path, file_uuid="fixed")["uuid"] == "fixed"


def test_thumbnails_can_be_disabled(sample: Callable[[str], Path]) -> None:
    path = sample("prusaslicer.gcode")
    md = extract_metadata(path, thumbnails=False)
    assert "thumbnails" not in md
    assert not (path.parent / ".thumbs").exists()
