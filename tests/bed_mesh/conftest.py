"""A real server on the fast virtual printer, with a [bed_mesh] section."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from components.bed_mesh.component import BedMesh
from tests.harness import RunningServer, running_server
from tests.printer.conftest import FAST_PRINTER, printer_of, wait_until

MESH_CONFIG = FAST_PRINTER + """
[bed_mesh]
mesh_min: 30, 30
mesh_max: 205, 205
"""


def bed_mesh_of(srv: RunningServer) -> BedMesh:
    component = srv.server.components["bed_mesh"]
    assert isinstance(component, BedMesh)
    return component


async def start_live(tmp_path: Path, config: str) -> AsyncIterator[RunningServer]:
    async with running_server(tmp_path, config) as srv:
        printer = printer_of(srv)
        await wait_until(lambda: printer.state == "ready", what="printer ready")
        yield srv


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[RunningServer]:
    async for srv in start_live(tmp_path, MESH_CONFIG):
        yield srv
