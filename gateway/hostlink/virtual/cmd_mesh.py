"""Bed levelling: G29, M420 and M421, in the report style of the configured system.

``leveling`` picks Marlin's AUTO_BED_LEVELING_BILINEAR (default), AUTO_BED_LEVELING_UBL or
MESH_BED_LEVELING. Probing takes ``probe_time`` simulated seconds per point (``busy:``
keepalives meanwhile) and measures a tilted, slightly warped bed that depends only on
``mesh_seed``. The mesh lives as long as the simulator (as if kept in EEPROM): a firmware
reset keeps it and its enabled state. Texts follow Marlin 2.1 (G29.cpp, ubl_G29.cpp,
mbl/G29.cpp, M420.cpp, M421.cpp, bedlevel.cpp print_2d_array, ubl.cpp display_map).
"""

from __future__ import annotations

import math
import random
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .parser import Gcode

if TYPE_CHECKING:
    from .config import VirtualPrinterConfig
    from .firmware import Firmware

NAN = math.nan
UBL_VERSION = "1.01"
ERR_M421 = "Error:M421 incorrect parameter usage"
ERR_MESH_XY = "Error:Mesh point out of range"


@dataclass
class MeshState:
    z: list[list[float]]  # z[ix][iy], as Marlin's z_values; nan = not probed
    has_grid: bool = False  # bilinear: G29 has set the grid spacing
    active: bool = False
    fade: float = 10.0  # DEFAULT_LEVELING_FADE_HEIGHT; 0 = off
    z_offset: float = 0.0  # MBL
    storage_slot: int = -1  # UBL


_STATES: weakref.WeakKeyDictionary[Firmware, MeshState] = weakref.WeakKeyDictionary()


def state(fw: Firmware) -> MeshState:
    st = _STATES.get(fw)
    if st is None:
        nx, ny = fw.cfg.mesh_grid
        fill = NAN if fw.cfg.leveling == "bilinear" else 0.0
        st = MeshState([[fill] * ny for _ in range(nx)])
        _STATES[fw] = st
    return st


def surface(cfg: VirtualPrinterConfig) -> list[list[float]]:
    """The simulated bed at the mesh points, z[ix][iy]: tilt + bowl + a little noise."""
    rng = random.Random(cfg.mesh_seed)
    tilt_x, tilt_y = rng.uniform(-0.2, 0.2), rng.uniform(-0.2, 0.2)
    bowl = rng.choice((-1, 1)) * rng.uniform(0.04, 0.1)
    offset = rng.uniform(-0.05, 0.05)
    nx, ny = cfg.mesh_grid
    z = []
    for ix in range(nx):
        u = 2.0 * ix / (nx - 1) - 1.0 if nx > 1 else 0.0
        column = []
        for iy in range(ny):
            v = 2.0 * iy / (ny - 1) - 1.0 if ny > 1 else 0.0
            h = offset + tilt_x * u + tilt_y * v + bowl * (u * u + v * v - 0.5)
            column.append(round(h + rng.uniform(-0.015, 0.015), 3))
        z.append(column)
    return z


def valid(fw: Firmware) -> bool:
    st, kind = state(fw), fw.cfg.leveling
    if kind == "bilinear":
        return st.has_grid
    if kind == "mbl":
        return any(v != 0.0 and not math.isnan(v) for col in st.z for v in col)
    return not any(math.isnan(v) for col in st.z for v in col)


def point_xy(fw: Firmware, ix: int, iy: int) -> tuple[float, float]:
    (x0, y0), (x1, y1) = fw.cfg.mesh_min, fw.cfg.mesh_max
    nx, ny = fw.cfg.mesh_grid
    return (x0 + (x1 - x0) * ix / max(1, nx - 1), y0 + (y1 - y0) * iy / max(1, ny - 1))


def nearest_index(fw: Firmware, value: float, axis: int) -> int:
    lo, hi = fw.cfg.mesh_min[axis], fw.cfg.mesh_max[axis]
    count = fw.cfg.mesh_grid[axis]
    step = (hi - lo) / max(1, count - 1)
    return math.floor((value - lo) / step + 0.5) if step > 0 else 0


# ------------------------------------------------------------------------- reports
def print_2d_array(fw: Firmware, precision: int) -> None:
    z = state(fw).z
    nx, ny = fw.cfg.mesh_grid
    fw.emit("".join(" " * (precision + (3 if x < 10 else 2)) + str(x) for x in range(nx)))
    for y in range(ny):
        cells = []
        for x in range(nx):
            v = z[x][y]
            if math.isnan(v):
                cells.append(" " + "=" * (precision + 2))
            else:
                cells.append(("+" if v >= 0 else "") + f"{v:.{precision}f}")
        fw.emit((" " if y < 10 else "") + str(y) + "".join(" " + c for c in cells))
    fw.emit("")


def _xy(sp: int, x: float, y: float) -> str:
    def pad(v: int) -> str:
        return (" " if v < 100 else "") + (" " if v < 10 else "") + str(v)

    return " " * sp + f"({pad(int(x))},{pad(int(y))})"


def display_map(fw: Firmware, map_type: int) -> None:
    """UBL's topography report: human (0), CSV (1) or compact human (4)."""
    z = state(fw).z
    cfg = fw.cfg
    nx, ny = cfg.mesh_grid
    (x0, y0), (x1, y1) = cfg.mesh_min, cfg.mesh_max
    human, csv, compact = not map_type & 3, map_type == 1, bool(map_type & 4)
    twixt = 8 * nx - 18
    labels = " " * 7 + "".join((" " if i < 10 else "") + str(i) + " " * 6 for i in range(nx))
    fw.emit("")
    if human:
        fw.emit("Bed Topography Report:")
        fw.emit("")
        fw.emit(_xy(4, x0, y1) + _xy(twixt, x1, y1))
        fw.emit(labels)
    else:
        fw.emit("Bed Topography Report for " + ("CSV:" if csv else "LCD:"))
        fw.emit("")
    cx = min(max(nearest_index(fw, fw.pos[0], 0), 0), nx - 1)
    cy = min(max(nearest_index(fw, fw.pos[1], 1), 0), ny - 1)
    for j in range(ny - 1, -1, -1):
        line = ((" " if j < 10 else "") + f"{j} |") if human else ""
        cells = []
        for i in range(nx):
            here = i == cx and j == cy
            v = z[i][j]
            if math.isnan(v):
                text = "  .   " if human else "NAN"
            elif human:
                text = ("+" if v > 0 else " " if v >= 0 else "") + f"{v:.3f}"
            else:
                text = f"{v:.3f}"
            cells.append(("[" + text + "]" if here else " " + text + " ") if human else text)
        fw.emit(line + ("".join(cells) if human else "\t".join(cells)))
        if j and human and not compact:
            fw.emit("   |")
    if human:
        fw.emit(labels)
        fw.emit(_xy(4, x0, y0) + _xy(twixt, x1, y0))
        fw.emit("")


def report_mbl(fw: Firmware) -> None:
    nx, ny = fw.cfg.mesh_grid
    fw.emit(f"{nx}x{ny} mesh. Z offset: {state(fw).z_offset:.5f}")
    fw.emit("Measured points:")
    print_2d_array(fw, 5)


def _report_position(fw: Firmware) -> None:
    from .cmd_motion import position_report

    fw.emit(position_report(fw))


# ------------------------------------------------------------------------- probing
def _unhomed(fw: Firmware) -> bool:
    missing = "".join(ax for i, ax in enumerate("XYZ") if i not in fw.homed)
    if missing:
        fw.echo(f"Home {missing} first")
    return bool(missing)


def _probe_all(fw: Firmware, verbose: int = 0) -> list[list[float]]:
    """Probe every point in Marlin's zig-zag order, taking probe_time per point."""
    measured = surface(fw.cfg)
    nx, ny = fw.cfg.mesh_grid
    z = [[NAN] * ny for _ in range(nx)]
    for iy in range(ny):
        order = range(nx) if iy % 2 == 0 else range(nx - 1, -1, -1)
        for ix in order:
            x, y = point_xy(fw, ix, iy)
            fw.pos[0], fw.pos[1] = x, y
            fw.wait_time(fw.cfg.probe_time / fw.scale)
            z[ix][iy] = measured[ix][iy]
            if verbose > 2:
                fw.emit(f"Bed X: {x:.2f} Y: {y:.2f} Z: {z[ix][iy]:.2f}")
    fw.planner.excuse()
    return z


def g29_bilinear(fw: Firmware, gc: Gcode) -> None:
    st = state(fw)
    if gc.has("J"):
        st.z = [[NAN] * len(col) for col in st.z]
        st.has_grid = st.active = False
        return
    if _unhomed(fw):
        return
    if gc.has("O") and st.active:
        return
    verbose = gc.int("V")
    if not 0 <= verbose <= 4:
        fw.emit("?(V)erbose level implausible (0-4).")
        return
    if verbose > 0:
        fw.emit("G29 Auto Bed Leveling" + (" (DRYRUN)" if gc.has("D") else ""))
    fw.synchronize()
    st.active = False
    z = _probe_all(fw, verbose)
    if not gc.has("D"):
        st.z, st.has_grid = z, True
    fw.emit("Bilinear Leveling Grid:")
    print_2d_array(fw, 3)
    st.active = True
    _report_position(fw)


def g29_ubl(fw: Firmware, gc: Gcode) -> None:
    st = state(fw)
    phase = gc.int("P", -1) if gc.has_value("P") else -1
    if phase in (0, 1) and st.storage_slot == -1:
        st.storage_slot = 0
        fw.emit("Default storage slot 0 selected.")
    if phase == 0:
        st.z = [[0.0] * len(col) for col in st.z]
        st.active = False
        fw.emit("Mesh zeroed.")
    elif phase == 1:
        if fw.homed != {0, 1, 2}:
            from .cmd_motion import g28

            g28(fw, Gcode(text="G28", letter="G", code=28))
        st.active = False
        fw.emit("Mesh invalidated. Probing mesh.")
        st.z = _probe_all(fw)
        _report_position(fw)
    elif phase == 3:
        known = [v for col in st.z for v in col if not math.isnan(v)]
        fill = gc.float("C") if gc.has_value("C") else (sum(known) / len(known) if known else 0)
        st.z = [[fill if math.isnan(v) else v for v in col] for col in st.z]
    if gc.has("A") or gc.has("D"):
        st.active = gc.has("A") and valid(fw)
        fw.emit(f"Unified Bed Leveling System v{UBL_VERSION} "
                + ("active" if st.active else "inactive"))
    if gc.has("L") or gc.has("S"):
        st.storage_slot = gc.int("L" if gc.has("L") else "S", max(st.storage_slot, 0))
        fw.emit("Done.")
    if gc.has("T"):
        display_map(fw, gc.int("T"))


def g29_mbl(fw: Firmware, gc: Gcode) -> None:
    st = state(fw)
    s = gc.int("S") if gc.has_value("S") else 0
    if not 0 <= s <= 5:
        fw.emit("S out of range (0-5).")
        return
    if s == 0:
        if valid(fw):
            fw.emit("Mesh Bed Leveling " + ("ON" if st.active else "OFF"))
            report_mbl(fw)
        else:
            fw.emit("Mesh Bed Leveling has no data.")
    elif s in (1, 2):  # the whole manual procedure at once, as if every point was confirmed
        st.z = _probe_all(fw)
        fw.emit("Mesh probing done.")
        for i in range(3):
            fw.pos[i] = 0.0
            fw.homed.add(i)
        st.active = True
    elif s == 3:
        ix, iy = gc.int("X") - 1, gc.int("Y") - 1
        nx, ny = fw.cfg.mesh_grid
        if 0 <= ix < nx and 0 <= iy < ny and gc.has_value("Z"):
            st.z[ix][iy] = gc.float("Z")
    elif s == 4:
        st.z_offset = gc.float("Z")
    elif s == 5:
        st.z = [[0.0] * len(col) for col in st.z]
        st.active = False
    _report_position(fw)


# ------------------------------------------------------------------------- M420 / M421
def m420(fw: Firmware, gc: Gcode) -> None:
    st, kind = state(fw), fw.cfg.leveling
    seen_s = gc.has("S")
    to_enable = (gc.int("S", 1) != 0) if seen_s else st.active
    if seen_s and not to_enable:
        st.active = False
    seen_v = gc.has("V")
    if kind == "ubl" and (gc.has("L") or seen_v):
        if gc.has("L"):
            st.storage_slot = gc.int("L", max(st.storage_slot, 0))
        display_map(fw, gc.int("T"))
        fw.emit("Mesh is " + ("" if valid(fw) else "in") + "valid")
        fw.emit(f"Storage slot: {st.storage_slot}")
    if valid(fw):
        if seen_v and kind == "bilinear":
            fw.emit("Bilinear Leveling Grid:")
            print_2d_array(fw, 3)
        elif seen_v and kind == "mbl":
            fw.emit("Mesh Bed Level data:")
            report_mbl(fw)
        if gc.has_value("Z"):
            st.fade = max(0.0, gc.float("Z"))
        st.active = to_enable
    elif to_enable or seen_v:
        fw.echo("Invalid mesh.")
    if to_enable and not st.active:
        fw.emit("Error:Failed to enable Bed Leveling")
    fw.echo("Bed Leveling " + ("ON" if st.active else "OFF"))
    fw.echo("Fade Height " + (f"{st.fade:.2f}" if st.fade > 0 else "OFF"))


def m421(fw: Firmware, gc: Gcode) -> None:
    st, kind = state(fw), fw.cfg.leveling
    nx, ny = fw.cfg.mesh_grid
    has_z, has_q = gc.has_value("Z"), not gc.has_value("Z") and gc.has_value("Q")
    has_n = kind == "ubl" and gc.has("N")
    ix = gc.int("I", -1) if gc.has_value("I") else -1
    iy = gc.int("J", -1) if gc.has_value("J") else -1
    if kind == "mbl":
        if not gc.has_value("I") and gc.has_value("X"):
            ix = nearest_index(fw, gc.float("X"), 0)
        if not gc.has_value("J") and gc.has_value("Y"):
            iy = nearest_index(fw, gc.float("Y"), 1)
    if kind == "bilinear":  # I or J left out: a whole column, row or the whole mesh
        if not (has_z or has_q):
            fw.emit(ERR_M421)
        elif not (-1 <= ix < nx and -1 <= iy < ny):
            fw.emit(ERR_MESH_XY)
        else:
            xs = [ix] if ix >= 0 else list(range(nx))
            ys = [iy] if iy >= 0 else list(range(ny))
            _set_points(st, xs, ys, gc.float("Z" if has_z else "Q"), has_q)
        return
    by_xy = kind == "mbl" and gc.has_value("X") and gc.has_value("Y")
    by_ij = gc.has_value("I") and gc.has_value("J")
    if by_ij == by_xy or not (has_z or has_q or has_n):
        fw.emit(ERR_M421)
    elif not (0 <= ix < nx and 0 <= iy < ny):
        fw.emit(ERR_MESH_XY)
    elif has_n:
        st.z[ix][iy] = NAN
    else:
        _set_points(st, [ix], [iy], gc.float("Z" if has_z else "Q"), has_q)


def _set_points(st: MeshState, xs: list[int], ys: list[int], value: float, add: bool) -> None:
    for x in xs:
        for y in ys:
            st.z[x][y] = value + (st.z[x][y] if add else 0.0)


_G29: dict[str, Callable[[Firmware, Gcode], None]] = {
    "bilinear": g29_bilinear, "ubl": g29_ubl, "mbl": g29_mbl,
}


def table(cfg: VirtualPrinterConfig) -> dict[tuple[str, int], Callable[[Firmware, Gcode], None]]:
    """The levelling commands for ``cfg.leveling`` (none for "none")."""
    g29 = _G29.get(cfg.leveling)
    if g29 is None:
        return {}
    return {("G", 29): g29, ("M", 420): m420, ("M", 421): m421}
