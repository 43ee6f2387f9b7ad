"""Marlin's levelling mesh as Klipper's `bed_mesh` object (see docs/bed_mesh.md)."""

from __future__ import annotations

from components.bed_mesh.component import BedMesh, load_component
from components.printer.api import PrinterApi
from gateway.component import ComponentSpec

__all__ = ["COMPONENT", "BedMesh", "load_component"]

COMPONENT = ComponentSpec(load_component, always=True, needs=(PrinterApi,))
