"""Marlin's levelling mesh as Klipper's `bed_mesh` object (see docs/bed_mesh.md)."""

from __future__ import annotations

from components.bed_mesh.component import BedMesh, load_component

__all__ = ["BedMesh", "load_component"]
