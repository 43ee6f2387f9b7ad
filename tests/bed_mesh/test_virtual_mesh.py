"""The virtual printer's G29/M420/M421 in each report style, read back by our parser."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import serial

from gateway.hostlink.protocol.mesh import parse_report
from gateway.hostlink.virtual import VirtualPrinter, VirtualPrinterConfig
from gateway.hostlink.virtual.cmd_mesh import surface


class Host:
    """Plain lines out; `ask` reads until the command's ok."""

    def __init__(self, port: str) -> None:
        self.ser = serial.Serial(port, 250000, timeout=0.02)
        self._partial = b""
        self.busy = 0

    def ask(self, command: str, timeout: float = 20.0) -> list[str]:
        """The lines before the ok, without busy: keepalives (in self.busy)."""
        self.ser.write(command.encode() + b"\n")
        got: list[str] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._partial += self.ser.read(max(1, self.ser.in_waiting))
            while b"\n" in self._partial:
                raw, _, self._partial = self._partial.partition(b"\n")
                line = raw.decode("latin-1").rstrip("\r")
                if line.startswith("ok"):
                    return got
                if "busy:" in line:
                    self.busy += 1
                else:
                    got.append(line)
        raise AssertionError(f"no ok for {command!r}; got {got!r}")


def printer(leveling: str) -> Iterator[tuple[VirtualPrinter, Host]]:
    cfg = VirtualPrinterConfig(time_scale=50, leveling=leveling, autoreport_temp=False,
                               autoreport_pos=False, mesh_grid=(4, 3))
    vp = VirtualPrinter(cfg)
    host = Host(vp.start())
    try:
        yield vp, host
    finally:
        host.ser.close()
        vp.stop()


def rows(cfg: VirtualPrinterConfig) -> list[list[float]]:
    z = surface(cfg)
    return [[z[ix][iy] for ix in range(len(z))] for iy in range(len(z[0]))]


@pytest.fixture
def bilinear() -> Iterator[tuple[VirtualPrinter, Host]]:
    yield from printer("bilinear")


@pytest.fixture
def ubl() -> Iterator[tuple[VirtualPrinter, Host]]:
    yield from printer("ubl")


@pytest.fixture
def mbl() -> Iterator[tuple[VirtualPrinter, Host]]:
    yield from printer("mbl")


def test_surface_is_deterministic_per_seed_tilted_and_small() -> None:
    a = surface(VirtualPrinterConfig(mesh_seed=3))
    assert a == surface(VirtualPrinterConfig(mesh_seed=3))
    assert a != surface(VirtualPrinterConfig(mesh_seed=4))
    flat = [v for col in a for v in col]
    assert max(abs(v) for v in flat) < 0.6 and max(flat) - min(flat) > 0.05


def test_bilinear_g29_needs_homing_probes_with_busy_and_reports(
    bilinear: tuple[VirtualPrinter, Host],
) -> None:
    vp, host = bilinear
    assert host.ask("M420 V") == ["echo:Invalid mesh.", "echo:Bed Leveling OFF",
                                  "echo:Fade Height 10.00"]
    assert host.ask("G29") == ["echo:Home XYZ first"]
    host.ask("G28")
    out = host.ask("G29 V3")
    assert host.busy > 0
    assert "Bilinear Leveling Grid:" in out
    assert out[out.index("Bilinear Leveling Grid:") + 1] == "      0      1      2      3"
    assert "Bed X: 30.00 Y: 30.00 Z: " in out[1]
    report = parse_report(out)
    assert report is not None and report.points == rows(vp.config)
    assert report.mesh_min == (30.0, 30.0) and report.mesh_max == (205.0, 205.0)

    out = host.ask("M420 V")
    assert out[-2:] == ["echo:Bed Leveling ON", "echo:Fade Height 10.00"]
    again = parse_report(out)
    assert again is not None and again.points == report.points and again.enabled is True

    assert host.ask("M421 I1 J2 Z-0.5") == []
    assert host.ask("M421 I9 J0 Z1") == ["Error:Mesh point out of range"]
    assert host.ask("M421 I1 J2") == ["Error:M421 incorrect parameter usage"]
    assert host.ask("M420 S0")[0] == "echo:Bed Leveling OFF"
    report = parse_report(host.ask("M420 V"))
    assert report is not None and report.points[2][1] == -0.5 and report.enabled is False
    assert host.ask("M420 S1")[0] == "echo:Bed Leveling ON"


def test_bilinear_without_a_grid_cannot_be_enabled(bilinear: tuple[VirtualPrinter, Host]) -> None:
    _, host = bilinear
    assert host.ask("M421 I0 J0 Z0.1") == []
    out = host.ask("M420 S1")
    assert out[:2] == ["echo:Invalid mesh.", "Error:Failed to enable Bed Leveling"]


def test_ubl_topography_report(ubl: tuple[VirtualPrinter, Host]) -> None:
    vp, host = ubl
    out = host.ask("G29 P1 T")  # homes by itself, as Marlin's UBL does
    assert out[:2] == ["Default storage slot 0 selected.", "Mesh invalidated. Probing mesh."]
    assert "Bed Topography Report:" in out
    assert "    ( 30,205)" + " " * 14 + "(205,205)" in out
    assert any(ln.startswith(" 2 |") and "[" in ln for ln in out)  # the nozzle's point
    report = parse_report(out)
    assert report is not None and report.leveling == "ubl"
    assert report.points == rows(vp.config)
    assert report.mesh_min == (30.0, 30.0) and report.mesh_max == (205.0, 205.0)

    assert host.ask("M421 I1 J0 N") == []
    assert host.ask("M421 I1 Z0") == ["Error:M421 incorrect parameter usage"]
    assert host.ask("G29 A") == ["Unified Bed Leveling System v1.01 inactive"]  # a hole
    out = host.ask("M420 V")
    assert out[-5:] == ["Mesh is invalid", "Storage slot: 0", "echo:Invalid mesh.",
                        "echo:Bed Leveling OFF", "echo:Fade Height 10.00"]
    report = parse_report(out)
    assert report is not None and report.points[0][1] is None
    csv = parse_report(host.ask("G29 T1"))
    assert csv is not None and csv.points == report.points

    assert host.ask("M421 I1 J0 Z0.25") == []
    assert host.ask("G29 A") == ["Unified Bed Leveling System v1.01 active"]
    report = parse_report(host.ask("M420 V T4"))
    assert report is not None and report.enabled is True and report.points[0][1] == 0.25


def test_manual_mesh_reports_and_m421_by_position(mbl: tuple[VirtualPrinter, Host]) -> None:
    vp, host = mbl
    assert host.ask("G29")[0] == "Mesh Bed Leveling has no data."
    assert host.ask("G29 S1")[0] == "Mesh probing done."
    out = host.ask("G29")
    assert out[:3] == ["Mesh Bed Leveling ON", "4x3 mesh. Z offset: 0.00000", "Measured points:"]
    report = parse_report(out)
    assert report is not None and report.leveling == "mbl"
    assert report.points == rows(vp.config)

    # X/Y name the nearest mesh point (here index 1, 2)
    assert host.ask("M421 X88.3 Y205 Z0.125") == []
    assert host.ask("M421 X88 I1 Z1") == ["Error:M421 incorrect parameter usage"]
    assert host.ask("M421 X500 Y30 Z1") == ["Error:Mesh point out of range"]
    out = host.ask("M420 V")
    assert out[0] == "Mesh Bed Level data:"
    report = parse_report(out)
    assert report is not None and report.points[2][1] == 0.125 and report.enabled is True
