"""Reading a print file: commands with their offsets, layers by offset."""

from __future__ import annotations

from pathlib import Path

from components.printer.job_reader import LayerTrack, read_commands


def test_commands_come_with_the_offset_after_their_line(tmp_path: Path) -> None:
    text = b"; header\nG28\n\nG1 X1 ; move\n   \nM104 S200"
    path = tmp_path / "a.gcode"
    path.write_bytes(text)
    got = list(read_commands(path))
    assert got == [("G28", 13), ("G1 X1", 27), ("M104 S200", len(text))]
    assert got[-1][1] == path.stat().st_size


def test_reading_resumes_from_an_offset(tmp_path: Path) -> None:
    path = tmp_path / "a.gcode"
    path.write_bytes(b"G1 X1\nG1 X2\nG1 X3\n")
    assert list(read_commands(path, start=6)) == [("G1 X2", 12), ("G1 X3", 18)]


def test_lines_spanning_read_chunks_are_whole(tmp_path: Path) -> None:
    lines = [f"G1 X{i} Y{i} E{i * 0.01:.3f}" for i in range(60000)]
    path = tmp_path / "big.gcode"
    path.write_text("\n".join(lines) + "\n")
    got = list(read_commands(path))
    assert [c for c, _ in got] == lines
    assert got[-1][1] == path.stat().st_size


def test_layer_markers_of_prusa_and_cura_are_tracked_by_offset(tmp_path: Path) -> None:
    path = tmp_path / "layers.gcode"
    path.write_bytes(b";LAYER_COUNT:3\n;LAYER:0\nG1 Z0.2\n;LAYER:1\nG1 Z0.4\n;LAYER:2\nG1 Z0.6\n")
    track = LayerTrack()
    commands = list(read_commands(path, layers=track))
    assert track.total == 3
    assert [track.layer_at(offset) for _, offset in commands] == [1, 2, 3]
    assert track.layer_at(0) is None
    prusa = tmp_path / "prusa.gcode"
    prusa.write_bytes(b";LAYER_CHANGE\n;Z:0.2\nG1 Z0.2\n;LAYER_CHANGE\n;Z:0.4\nG1 Z0.4\n")
    track = LayerTrack()
    assert [track.layer_at(o) for _, o in read_commands(prusa, layers=track)] == [1, 2]


def test_klipper_print_stats_info_is_not_sent_but_tracked(tmp_path: Path) -> None:
    path = tmp_path / "k.gcode"
    path.write_bytes(b"SET_PRINT_STATS_INFO TOTAL_LAYER=2\nSET_PRINT_STATS_INFO CURRENT_LAYER=1\n"
                     b"G1 X1\n")
    track = LayerTrack()
    assert [c for c, _ in read_commands(path, layers=track)] == ["G1 X1"]
    assert track.total == 2 and track.layer_at(100) == 1
