"""What must last for a host print to be resumed after the host died: the record, kept in
the database, and the arithmetic that turns it into a place in the file.

The record says which file, the last line the firmware acknowledged (its line number on
the wire and the file offset after it), the lines sent after it (the firmware may have
run them after the host died), and the G-code state after the acknowledged line: modes,
position, feed rate, speed and flow factors, fan, heater targets, tool, layer.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import msgspec

from components.printer.gcode_state import GcodeState
from components.printer.job_reader import read_commands
from gateway.hostlink.protocol import clean_command

NAMESPACE = "skysail"
KEY = "interrupted_print"


class GcodeSnapshot(msgspec.Struct):
    """The G-code state a print continues in (components/printer/gcode_state.py)."""

    position: list[float]
    absolute_coordinates: bool
    absolute_extrude: bool
    feedrate: float
    speed_factor: float
    extrude_factor: float
    fan_speed: float
    targets: dict[str, float]
    active_tool: int
    filament_used: float

    @classmethod
    def of(cls, g: GcodeState) -> GcodeSnapshot:
        return cls(list(g.position), g.absolute_coordinates, g.absolute_extrude, g.feedrate,
                   g.speed_factor, g.extrude_factor, g.fan_speed, dict(g.targets),
                   g.active_tool, g.filament_used)

    def state(self) -> GcodeState:
        return GcodeState(
            position=list(self.position), absolute_coordinates=self.absolute_coordinates,
            absolute_extrude=self.absolute_extrude, feedrate=self.feedrate,
            speed_factor=self.speed_factor, extrude_factor=self.extrude_factor,
            fan_speed=self.fan_speed, targets=dict(self.targets),
            active_tool=self.active_tool, filament_used=self.filament_used,
        )


class ResumeRecord(msgspec.Struct):
    filename: str  # relative to the gcodes root
    path: str
    size: int
    mtime_ns: int  # the file must be the one that was printing
    # (line number, file offset after the line): the last acknowledged print line first,
    # then the lines in flight when the record was written
    lines: list[tuple[int, int]]
    gcode: GcodeSnapshot  # after the acknowledged line
    layer: int | None
    total_layers: int | None
    print_duration: float  # seconds printed before the host died
    filament_used: float  # mm, of this print
    meatpack: bool  # lines were packed: the firmware's decoder may still be on
    saved_at: float = msgspec.field(default_factory=time.time)

    @property
    def acknowledged(self) -> tuple[int, int]:
        return self.lines[0]

    @property
    def z(self) -> float:
        return self.gcode.position[2]


def decode(data: object) -> ResumeRecord | None:
    """The record from the database's value (None if absent or unreadable)."""
    if data is None:
        return None
    try:
        return msgspec.convert(data, ResumeRecord)
    except msgspec.ValidationError:
        return None


def file_matches(record: ResumeRecord) -> str | None:
    """None if the file is still the one that was printing, else why not."""
    path = Path(record.path)
    try:
        st = path.stat()
    except OSError:
        return f"{record.filename} is gone"
    if st.st_size != record.size or st.st_mtime_ns != record.mtime_ns:
        return f"{record.filename} has changed since the print started"
    return None


def commands_after(path: Path, offset: int) -> Iterator[tuple[str, int]]:
    """The commands a stream sends from ``offset`` on, each with the offset after it:
    the same lines, in the same order, as the print stream numbered."""
    for raw, end in read_commands(path, start=offset):
        if clean_command(raw):
            yield raw, end


def resume_point(record: ResumeRecord, last_line: int) -> int | None:
    """The file offset after the line the firmware accepted last (``last_line``), when
    the firmware kept running after the host died; None if ``last_line`` cannot be one
    of this print's lines (the firmware restarted, or another host numbered lines).

    Print lines are numbered consecutively unless a console command came between two of
    them: the record lists the numbers of the lines in flight when it was written, and
    lines sent after it continue the numbering of the last one."""
    first_n = record.lines[0][0]
    if last_line < first_n:
        return None
    for n, offset in record.lines:
        if n == last_line:
            return offset
    last_n, last_offset = record.lines[-1]
    skip = last_line - last_n
    for _, end in commands_after(Path(record.path), last_offset):
        skip -= 1
        if skip == 0:
            return end
    return None


def state_at(record: ResumeRecord, offset: int) -> GcodeState:
    """The G-code state after the line ending at ``offset``: the recorded state, with the
    file's lines between the acknowledged line and ``offset`` applied."""
    state = record.gcode.state()
    start = record.acknowledged[1]
    if offset <= start:
        return state
    for command, end in commands_after(Path(record.path), start):
        if end > offset:
            break
        state.apply(command)
    return state
