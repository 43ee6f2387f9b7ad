"""A print file's commands → what the firmware gets, decided as each line is sent.

* Firmware lines are checked (max_temp) and given the host's part of the G-code offset.
* Lines are made to fit the firmware's line buffer (line_fit.py: spaces squeezed,
  M117/M118 shortened); one that cannot ends the print with an error before it is sent
  (files are scanned for such lines at start).
* Extended commands in the file (EXCLUDE_OBJECT_*, SET_VELOCITY_LIMIT, configured
  macros, …) are translated as in the console; one the host does not know is reported
  and skipped, as Klipper does.
* Inside an excluded object's block the moves are dropped; the position bookkeeping
  goes on, and on leaving the block the firmware is brought to where the G-code
  expects it (E set with G92 in absolute extrusion, Z and relative positions moved to,
  the feed rate restored), so the next object starts from where it should.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator

from components.printer.commands import CommandTable
from components.printer.exclude_object import ExcludeObjects
from components.printer.gcode_state import GcodeState, fmt, mode_lines, split_command
from components.printer.line_fit import LineTooLong, fit_print_line
from components.printer.outgoing import Outgoing
from components.printer.params import CommandError, Params, command_word, is_traditional

_MOVES = frozenset({"G0", "G1", "G2", "G3"})
MAX_MACRO_DEPTH = 10


def resync_lines(state: GcodeState, sent: GcodeState) -> list[str]:
    """Lines that take the firmware from `sent` to where `state` says it is."""
    lines: list[str] = []
    x, y, z, e = state.position
    if not state.absolute_coordinates:
        if sent.position[:3] != state.position[:3]:
            lines += ["G90", f"G0 X{fmt(x)} Y{fmt(y)} Z{fmt(z)}"]
            lines += mode_lines(False, state.absolute_extrude)
    elif sent.position[2] != z:
        lines.append(f"G0 Z{fmt(z)}")
    if state.absolute_extrude and sent.position[3] != e:
        lines.append(f"G92 E{e:.5f}")
    if sent.feedrate != state.feedrate:
        lines.append(f"G1 F{state.feedrate:.0f}")
    return lines


class StreamFilter:
    def __init__(
        self,
        outgoing: Outgoing,
        table: CommandTable,
        excluder: ExcludeObjects,
        start: GcodeState,
        respond: Callable[[str], None],
        pause: Callable[[str], None],
        room: int,
    ) -> None:
        self.outgoing = outgoing
        self.table = table
        self.excluder = excluder
        self.state = start.copy()  # as if every line were sent
        self.sent = start.copy()  # what the firmware was given
        self.respond = respond
        self.pause = pause
        self.room = room  # bytes a firmware line may take (HostLink.command_room)
        # commands to run before the next line of the file (PAUSE or M600 at a layer)
        self.inject: deque[str] = deque()
        self.error: str | None = None
        self.skipped_moves = 0
        self._skipping = False

    def lines(self, source: Iterable[tuple[str, int]]) -> Iterator[tuple[str, int]]:
        for raw, offset in source:
            try:
                while self.inject:
                    yield from self._line(self.inject.popleft(), offset, 0)
                yield from self._line(raw, offset, 0)
            except (CommandError, LineTooLong) as exc:
                # as Klipper: a refused line ends the print with its error
                self.error = exc.message
                self.respond(f"!! {exc.message}")
                return

    def queue_call(self, line: str) -> None:
        self.inject.append(line)

    def _send(self, line: str, offset: int) -> tuple[str, int]:
        line = fit_print_line(line, self.room)
        self.sent.apply(line)
        return line, offset

    def _line(self, raw: str, offset: int, depth: int) -> Iterator[tuple[str, int]]:
        word = command_word(raw)
        if is_traditional(word):
            # while skipping, the state before this line is where the firmware must be
            # brought if this line ends the excluded block
            before = self.state.copy() if self._skipping else None
            line = self.outgoing.translate(raw, self.state, check_range=False)
            if split_command(line)[0] in _MOVES and self.excluder.skipping:
                self._skipping = True
                self.skipped_moves += 1
                return
            if before is not None and not self.excluder.skipping:
                self._skipping = False
                for fix in resync_lines(before, self.sent):
                    yield self._send(fix, offset)
                self.sent.position = list(before.position)
                self.sent.feedrate = before.feedrate
            yield self._send(line, offset)
            return
        if word in ("PAUSE", "M601"):
            self.pause("Paused by the print file")
            return
        command = self.table.get(word)
        macro = self.table.macros.get(word)
        if command is not None and command.expand is not None:
            for line in command.expand(Params.parse(raw), self.state):
                yield self._send(line, offset)
        elif macro is not None and depth < MAX_MACRO_DEPTH:
            for line in macro[0].splitlines():
                text = line.split(";", 1)[0].strip()
                if text:
                    yield from self._line(text, offset, depth + 1)
        else:
            self.respond(f'// Unknown command:"{word}" in the print file, skipped')
