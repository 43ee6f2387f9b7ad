"""The host's table of extended commands: name → handler, with help text.

A command either *translates* into firmware lines (`expand`: SET_HEATER_TEMPERATURE →
M104, RESTORE_GCODE_STATE → G90/M82/G92 E…), which then go out with the lines around
it in one batch and work the same inside a print file, or *runs on the host*
(`handler`: HELP, GET_POSITION, PAUSE …), between batches. `expand` gets the send-time
G-code state (the state the lines before it lead to) and advances it.

Commands of the printer itself are "builtin"; other components add theirs (SET_LED,
BED_MESH_CALIBRATE) through `PrinterApi.register_command` and lose them when their
server generation ends.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from components.printer.api import CommandHandler
from components.printer.gcode_state import GcodeState
from components.printer.marlin_help import MARLIN_COMMANDS
from components.printer.params import Params

Handler = Callable[[Params], Awaitable[None] | None]
Expand = Callable[[Params, GcodeState], list[str]]


@dataclass(slots=True)
class HostCommand:
    name: str
    handler: Handler | None
    help: str
    builtin: bool
    expand: Expand | None = None


class CommandTable:
    def __init__(self) -> None:
        self.commands: dict[str, HostCommand] = {}
        self.macros: dict[str, tuple[str, str]] = {}  # name → (gcode, description)

    def add(self, name: str, handler: Handler, help: str) -> None:
        """One of the printer's own commands, run on the host."""
        self.commands[name.upper()] = HostCommand(name.upper(), handler, help, True)

    def add_translated(
        self, name: str, expand: Expand, help: str, handler: Handler | None = None
    ) -> None:
        """One of the printer's own commands, translated into firmware lines (with a
        `handler`, the console runs that on the host instead and a print file gets
        the translation: TEMPERATURE_WAIT waits on the host, or in the firmware)."""
        self.commands[name.upper()] = HostCommand(name.upper(), handler, help, True, expand)

    def register(self, name: str, handler: CommandHandler, help: str) -> None:
        """Another component's command (the public `CommandHandler` signature)."""
        upper = name.upper()

        def call(params: Params) -> Awaitable[None] | None:
            return handler(upper, params)

        self.commands[upper] = HostCommand(upper, call, help, False)

    def unregister(self, name: str) -> None:
        command = self.commands.get(name.upper())
        if command is not None and not command.builtin:
            del self.commands[name.upper()]

    def drop_foreign(self) -> None:
        """Forget the commands of the components of a server generation that ended."""
        self.commands = {n: c for n, c in self.commands.items() if c.builtin}

    def get(self, name: str) -> HostCommand | None:
        return self.commands.get(name)

    def help(self) -> dict[str, str]:
        """printer.gcode.help: every command the console understands."""
        out = dict(MARLIN_COMMANDS)
        out.update({name: cmd.help for name, cmd in sorted(self.commands.items())})
        out.update({name: text for name, (_, text) in sorted(self.macros.items())
                    if name not in out})
        return out

    def help_lines(self) -> list[str]:
        """HELP's answer, as Klipper words it, then what the firmware understands."""
        lines = ["Available extended commands:"]
        host = {name: cmd.help for name, cmd in self.commands.items()}
        host.update({name: text for name, (_, text) in self.macros.items() if name not in host})
        lines += [f"{name:<10}: {text}" for name, text in sorted(host.items())]
        lines.append("Firmware (Marlin) commands, sent to the printer:")
        lines += [f"{name:<10}: {text}" for name, text in MARLIN_COMMANDS.items()]
        return lines


async def call(command: HostCommand, params: Params) -> None:
    assert command.handler is not None
    result = command.handler(params)
    if inspect.isawaitable(result):
        await result
