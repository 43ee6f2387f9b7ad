"""The host's record of modes and position, from executed commands."""

from __future__ import annotations

import pytest

from components.printer.gcode_state import GcodeState, split_command


@pytest.mark.parametrize(
    ("line", "code", "words"),
    [
        ("G1 X10 Y-2.5 F3000", "G1", {"X": 10.0, "Y": -2.5, "F": 3000.0}),
        ("G01 X.5", "G1", {"X": 0.5}),
        ("g1 x1 ; move", "G1", {"X": 1.0}),
        ("M117 Hello X1", "M117", {}),
        ("G29.1 Z0.2", "G29.1", {"Z": 0.2}),
        ("; only a comment", "", {}),
        ("SET_LED LED=x RED=1", "SET_LED", {}),
    ],
)
def test_split_command(line: str, code: str, words: dict[str, float]) -> None:
    assert split_command(line) == (code, words)


def run(*lines: str) -> GcodeState:
    state = GcodeState()
    for line in lines:
        state.apply(line)
    return state


def test_absolute_and_relative_moves_track_position_and_feedrate() -> None:
    state = run("G28", "G90", "G1 X10 Y20 Z0.3 F3000", "G91", "G1 X5 Z1", "G90", "G1 E2")
    assert state.position == [15.0, 20.0, 1.3, 2.0]
    assert state.feedrate == 3000.0
    assert state.homed_axes == "xyz"


def test_relative_extrusion_with_m83_accumulates_e() -> None:
    state = run("G90", "M83", "G1 X1 E0.5", "G1 X2 E0.5")
    assert state.position[3] == 1.0
    assert state.absolute_coordinates and not state.absolute_extrude


def test_g90_resets_relative_extrusion_as_marlin_does() -> None:
    state = run("M83", "G90")
    assert state.absolute_extrude


def test_g92_sets_position_without_moving() -> None:
    state = run("G1 X5 E10", "G92 E0")
    assert state.position == [5.0, 0.0, 0.0, 0.0]


def test_factors_fan_targets_and_display() -> None:
    state = run("M220 S150", "M221 S95", "M106 S127.5", "M104 S215", "M140 S60",
                "T1", "M104 S200", "M117 Printing ; note", "M73 P42")
    assert state.speed_factor == 1.5 and state.extrude_factor == 0.95
    assert state.fan_speed == 0.5
    assert state.targets == {"extruder": 215.0, "heater_bed": 60.0, "extruder1": 200.0}
    assert state.display_message == "Printing"
    assert state.display_progress == 0.42
    assert run("M106", "M107").fan_speed == 0.0


def test_homing_some_axes_and_disabling_steppers() -> None:
    assert run("G28 X Y").homed_axes == "xy"
    assert run("G28", "M84").homed_axes == ""
    assert run("G28", "M84 X").homed_axes == "yz"
    assert run("G28", "M84 S600").homed_axes == "xyz"


def test_copy_is_independent() -> None:
    state = run("G1 X1")
    saved = state.copy()
    state.apply("G1 X9")
    assert saved.position[0] == 1.0
