"""The levelling-report parser, fed literal firmware text of each format."""

from __future__ import annotations

from gateway.hostlink.protocol.mesh import normalize, parse_report, parse_value


def lines(text: str) -> list[str]:
    return text.split("\n")


BILINEAR_M420 = """\
Bilinear Leveling Grid:
      0      1      2      3      4
 0 -0.078 -0.098 -0.160 -0.268 -0.371
 1 +0.039 +0.001 -0.064 -0.142 -0.272
 2 +0.127 +0.094 +0.041 -0.047 -0.183
 3 +0.162 +0.127 +0.095 -0.008 -0.121
 4 +0.188 +0.169 +0.097 +0.015 -0.091

echo:Bed Leveling ON
echo:Fade Height 10.00
ok P15 B3"""


def test_bilinear_grid_rows_are_y_front_first() -> None:
    report = parse_report(lines(BILINEAR_M420))
    assert report is not None
    assert report.leveling == "bilinear"
    assert report.points[0] == [-0.078, -0.098, -0.16, -0.268, -0.371]
    assert report.points[4][0] == 0.188
    assert (report.x_count, report.y_count) == (5, 5)
    assert report.enabled is True
    assert report.mesh_min is None and report.mesh_max is None  # from config, later


def test_bilinear_through_the_host_link_lines_are_left_stripped() -> None:
    # our link strips leading spaces: header and rows lose their alignment
    stripped = [ln.strip() for ln in lines(BILINEAR_M420)]
    report = parse_report(stripped)
    assert report is not None and report.points[1][1] == 0.001


def test_bilinear_unprobed_points_as_equal_signs_nan_and_missing() -> None:
    text = """\
Bilinear Leveling Grid:
      0      1      2      3
 0  ===== +0.010  ===== -0.020
 1 +0.030    nan +0.050
 2 -0.100  =======  NAN  -0.200
echo:Bed Leveling OFF"""
    report = parse_report(lines(text))
    assert report is not None
    assert report.points == [
        [None, 0.01, None, -0.02],
        [0.03, None, 0.05, None],
        [-0.1, None, None, -0.2],
    ]
    assert report.enabled is False


def test_odd_spacing_tabs_and_echo_prefixes() -> None:
    text = """\
echo:Bilinear Leveling Grid:
echo:   0   1   2
echo:0\t+0.1   -0.2  +0.3
echo:  1 -0.25\t\t+0.125 0
echo:2    +1    -1     +0.000
echo:Bed Leveling ON"""
    report = parse_report(lines(text))
    assert report is not None
    assert report.points == [[0.1, -0.2, 0.3], [-0.25, 0.125, 0.0], [1.0, -1.0, 0.0]]


def test_subdivided_catmull_rom_grid_is_not_the_probed_mesh() -> None:
    text = """\
Bilinear Leveling Grid:
      0      1      2
 0 -0.059 +0.004 +0.034
 1 -0.095 -0.048 -0.002
 2 -0.118 -0.050 -0.004

Subdivided with CATMULL ROM Leveling Grid:
        0        1        2        3        4
 0 -0.05900 -0.03698 -0.01496 +0.00350  =======
 1 -0.07168 -0.05220 -0.03272 -0.01548  =======
 2 -0.08437 -0.06743 -0.05048 -0.03446 -0.01885
 3 -0.09550 -0.07959 -0.06368 -0.04800 -0.03137
 4 -0.10620 -0.08860 -0.07100 -0.05400 -0.03678

echo:Bed Leveling ON"""
    report = parse_report(lines(text))
    assert report is not None
    assert report.y_count == 3 and report.x_count == 3
    assert report.points[2] == [-0.118, -0.05, -0.004]


def test_bilinear_bounds_from_verbose_probe_points() -> None:
    text = """\
G29 Auto Bed Leveling
Bed X: 30.00 Y: 30.00 Z: -0.08
Bed X: 205.00 Y: 30.00 Z: -0.37
Bed X: 205.00 Y: 205.00 Z: -0.09
Bed X: 30.00 Y: 205.00 Z: 0.19
Bilinear Leveling Grid:
      0      1
 0 -0.078 -0.371
 1 +0.188 -0.091
X:205.00 Y:205.00 Z:0.00 E:0.00 Count X:16400 Y:16400 Z:0"""
    report = parse_report(lines(text))
    assert report is not None
    assert report.mesh_min == (30.0, 30.0) and report.mesh_max == (205.0, 205.0)


def test_last_grid_wins_g29_then_m420() -> None:
    first = BILINEAR_M420.replace("-0.078", "+0.500")
    report = parse_report(lines(first) + lines(BILINEAR_M420))
    assert report is not None and report.points[0][0] == -0.078


UBL_MAP = """\

Bed Topography Report:

    ( 30,205)                      (205,205)
        0       1       2       3       4
 4 | +0.188  +0.169  +0.097  +0.015 [-0.091]
   |
 3 | +0.162  +0.127  +0.095  -0.008  -0.121
   |
 2 | +0.127  +0.094  +0.041  -0.047  -0.183
   |
 1 | +0.039    .     -0.064  -0.142  -0.272
   |
 0 | -0.078  -0.098  -0.160  -0.268  ( 0.000)
        0       1       2       3       4
    ( 30, 30)                      (205, 30)

Mesh is valid
Storage slot: 0
echo:Bed Leveling ON
echo:Fade Height 10.00"""


def test_ubl_topography_map_with_markers_and_corners() -> None:
    report = parse_report(lines(UBL_MAP))
    assert report is not None
    assert report.leveling == "ubl"
    assert report.points[0] == [-0.078, -0.098, -0.16, -0.268, 0.0]  # J0 is the front row
    assert report.points[4][4] == -0.091  # the [ ] marked point
    assert report.points[1][1] is None  # "." = not probed
    assert report.mesh_min == (30.0, 30.0) and report.mesh_max == (205.0, 205.0)
    assert report.enabled is True


def test_ubl_compact_map_with_echo_prefixes_and_left_stripped_lines() -> None:
    compact = [f"echo:{ln.strip()}" for ln in lines(UBL_MAP) if ln.strip() != "|"]
    report = parse_report(compact)
    assert report is not None and report.y_count == 5 and report.x_count == 5
    assert report.points[2][4] == -0.183


def test_ubl_csv_map_is_printed_back_row_first() -> None:
    text = """\
Bed Topography Report for CSV:

0.188\t0.169\t0.097
0.039\tNAN\t-0.064
-0.078\t-0.098\t-0.160
ok"""
    report = parse_report(lines(text))
    assert report is not None
    assert report.points == [[-0.078, -0.098, -0.16], [0.039, None, -0.064],
                             [0.188, 0.169, 0.097]]


def test_ubl_state_line_sets_enabled() -> None:
    report = parse_report([*lines(UBL_MAP)[:-2], "Unified Bed Leveling System v1.01 inactive"])
    assert report is not None and report.enabled is False


MBL_M420 = """\
Mesh Bed Level data:
3x3 mesh. Z offset: 0.00000
Measured points:
        0        1        2
 0 +0.20000 -0.09800 -0.16000
 1 +0.03900 +0.00100 -0.06400
 2 +0.12700 +0.09400 +0.04100

echo:Bed Leveling ON
echo:Fade Height OFF"""


def test_manual_mesh_bed_level_data() -> None:
    report = parse_report(lines(MBL_M420))
    assert report is not None
    assert report.leveling == "mbl"
    assert report.points[0] == [0.2, -0.098, -0.16]
    assert report.points[2][2] == 0.041
    assert report.enabled is True


def test_manual_mesh_g29_s0_and_old_spacing() -> None:
    text = """\
Mesh Bed Leveling OFF
6 x 6 mesh. Z offset: 0.00000
Measured points:
      0      1      2
0 +0.200 +0.093 +0.039
1 +0.176 +0.063 -0.018
2 +0.178 +0.059 -0.024"""
    report = parse_report(lines(text))
    assert report is not None and report.leveling == "mbl"
    assert report.points[1] == [0.176, 0.063, -0.018]
    assert report.enabled is False


def test_no_mesh_reports() -> None:
    assert parse_report(["echo:Invalid mesh.", "echo:Bed Leveling OFF"]) is None
    assert parse_report(["Mesh Bed Leveling has no data."]) is None
    assert parse_report(["ok", "echo:busy: processing", "X:0.00 Y:0.00 Z:0.00"]) is None
    assert parse_report([]) is None
    # a header without rows is no mesh
    assert parse_report(["Bilinear Leveling Grid:", "      0      1", "ok"]) is None


def test_tokens_and_prefixes() -> None:
    assert parse_value("+0.125") == (True, 0.125)
    assert parse_value("=====") == (True, None)
    assert parse_value(".") == (True, None)
    assert parse_value("nan") == (True, None)
    assert parse_value("|")[0] is False
    assert normalize("  echo:  echo:Bed Leveling ON ") == "Bed Leveling ON"


def test_homing_requests_are_recognised() -> None:
    from gateway.hostlink.protocol.mesh import asks_for_homing

    assert asks_for_homing(["echo:Home XYZ First"])
    assert asks_for_homing(["?Home XYZ first", "ok"])
    assert not asks_for_homing(["Bilinear Leveling Grid:", "ok"])
