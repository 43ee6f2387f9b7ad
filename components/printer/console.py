"""Runs G-code scripts from the console, the API and macros, with Klipper's semantics.

A script runs line by line and stops at the first line that fails: the answer is an
error naming that line, and nothing after it reaches the printer. Firmware lines go out
in lockstep batches (each waits for the previous one's ok, nothing else in between), so
a line the firmware refuses also stops the script before the next line is sent.
Extended commands run on the host (see commands.py); one the host does not know is
refused with Klipper's `Unknown command:"NAME"` and never sent to the firmware. M112
goes out of band as an emergency stop; M108, M410 and M876 jump the queue.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from components.printer.commands import CommandTable, call
from components.printer.gcode_state import GcodeState
from components.printer.line_fit import LineTooLong, check_line
from components.printer.outgoing import Outgoing
from components.printer.params import (
    CommandError,
    Params,
    command_word,
    is_traditional,
    strip_comment,
)
from gateway.errors import BadRequest, InvalidParams, ServerError
from gateway.gcode_text import script_lines
from gateway.hostlink import GCodeError, HostLink, LinkError, LinkNotReady

MAX_MACRO_DEPTH = 10
OUT_OF_BAND = frozenset({"M108", "M410", "M876"})


def clean_lines(script: str) -> list[str]:
    return [line for line in (strip_comment(raw) for raw in script_lines(script)) if line]


class FirmwareRefused(ServerError):
    """A batch of firmware lines failed (refused, or the link went down); the
    firmware's own error line is already in the console."""

    status = 400


class _Stop(Exception):
    """M112 was sent: the rest of the script is dropped."""


class _Batch:
    """Firmware lines waiting to go out together, and the state they lead to."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.state: GcodeState | None = None


class Console:
    def __init__(
        self,
        link: HostLink,
        table: CommandTable,
        outgoing: Outgoing,
        gcode: GcodeState,
        emergency_stop: Callable[[], Awaitable[None]],
        on_replies: Callable[[str, list[str]], None],
        respond: Callable[[str], None],
    ) -> None:
        self.link = link
        self.table = table
        self.outgoing = outgoing
        self.gcode = gcode
        self.emergency_stop = emergency_stop
        self.on_replies = on_replies
        self.respond = respond

    def check(self, script: str) -> None:
        """Refuse a script with a firmware line too long for the firmware before any of
        it runs (LineTooLong: 400 / -32602). Lines the host writes or adds to (offsets,
        expansions, macros) are checked as they are made, before their batch is sent."""
        lines = clean_lines(script)
        room = self.link.command_room
        for number, line in enumerate(lines, 1):
            word = command_word(line)
            if (not is_traditional(word) or word in self.table.macros
                    or self.table.get(word) is not None):
                continue
            try:
                check_line(line, room)
            except LineTooLong as exc:
                where = f" (script line {number})" if len(lines) > 1 else ""
                raise LineTooLong(f"{exc.message}{where}") from None

    async def run(self, script: str) -> None:
        self.check(script)
        try:
            await self._run(script, 0)
        except _Stop:
            pass

    async def _run(self, script: str, depth: int) -> None:
        if depth > MAX_MACRO_DEPTH:
            raise BadRequest("Macros nested too deeply (a macro calling itself?)")
        lines = clean_lines(script)
        many = len(lines) > 1
        batch = _Batch()
        for number, line in enumerate(lines, 1):
            try:
                await self._line(line, batch, depth)
            except FirmwareRefused:
                if depth == 0:
                    await self._restore_after_failure(lines, number)
                raise
            except ServerError as exc:
                await self._flush(batch, many)  # the lines before it came first
                if depth > 0:
                    raise
                await self._restore_after_failure(lines, number)
                # as Klipper: the console shows the error, the caller gets it
                self.respond(f"!! {exc.message}")
                if not many:
                    raise
                message = f"{exc.message} (script line {number}: {line})"
                if isinstance(exc, InvalidParams):
                    raise InvalidParams(message) from None
                raise ServerError(message, exc.status) from None
        await self._flush(batch, many)

    async def _restore_after_failure(self, lines: list[str], failed: int) -> None:
        """The frontends' jog, move and extrude scripts set modes (G91, M83) between
        SAVE_GCODE_STATE and RESTORE_GCODE_STATE. When a line between them fails, the
        script stops there (as Klipper's), but its own restore still runs, without a
        move, so the firmware is not left in modes the user never chose."""
        saved = {_state_name(line) for line in lines[:failed - 1]
                 if command_word(line) == "SAVE_GCODE_STATE"}
        for line in lines[failed:]:
            if command_word(line) == "RESTORE_GCODE_STATE" and _state_name(line) in saved:
                try:
                    await self._run(f'RESTORE_GCODE_STATE NAME="{_state_name(line)}"', 1)
                except ServerError as exc:
                    self.respond(f"!! {exc.message}")
                return

    async def _line(self, line: str, batch: _Batch, depth: int) -> None:
        word = command_word(line)
        if word == "M112":
            await self._flush(batch, False)
            await self.emergency_stop()
            raise _Stop
        if word in OUT_OF_BAND:
            await self._flush(batch, False)
            await self._emergency(line)
            return
        macro = self.table.macros.get(word)
        command = self.table.get(word)
        if command is not None and command.expand is not None and command.handler is None:
            if batch.state is None:
                batch.state = self.gcode.copy()
            room = self.link.command_room
            batch.lines += [check_line(expanded, room)
                            for expanded in command.expand(Params.parse(line), batch.state)]
            return
        if macro is not None or command is not None:
            await self._flush(batch, False)
            if command is not None:
                await call(command, Params.parse(line))
            elif macro is not None:
                await self._run(macro[0], depth + 1)
            return
        if not is_traditional(word):
            raise CommandError(f'Unknown command:"{word}"')
        if batch.state is None:
            batch.state = self.gcode.copy()
        batch.lines.append(check_line(self.outgoing.translate(line, batch.state, check_range=True),
                                    self.link.command_room))

    async def _flush(self, batch: _Batch, many: bool) -> None:
        if not batch.lines:
            return
        script = "\n".join(batch.lines)
        batch.lines.clear()
        batch.state = None
        try:
            replies = await self.link.send(script, lockstep=True)
        except GCodeError as exc:
            failed = f" (script line: {exc.command})" if many and exc.command else ""
            raise FirmwareRefused(f"{exc}{failed}") from None
        except LinkNotReady as exc:
            raise FirmwareRefused(str(exc), 503) from None
        except LinkError as exc:
            raise FirmwareRefused(str(exc)) from None
        self.on_replies(script, replies)

    async def _emergency(self, line: str) -> None:
        try:
            await self.link.emergency(line)
        except LinkError as exc:
            raise ServerError(str(exc), 503) from None


def _state_name(line: str) -> str:
    return str(Params.parse(line).get("NAME", "default"))
