"""Runs G-code scripts from the console, the API and macros.

A script's lines run strictly in order. Firmware lines go to the printer in batches, so
nothing from elsewhere lands between them. Host commands (PAUSE, RESUME, CANCEL_PRINT,
configured macros, commands other components register, such as SET_LED) run on the host
between batches. M112 goes out of band as an emergency stop; M108, M410 and M876 jump
the queue.
"""

from __future__ import annotations

import inspect
import re
import shlex
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from components.printer.api import CommandHandler
from components.printer.marlin_help import MARLIN_COMMANDS
from gateway.errors import BadRequest, ServerError
from gateway.hostlink import GCodeError, HostLink, LinkError, LinkNotReady

MAX_MACRO_DEPTH = 10
OUT_OF_BAND = frozenset({"M108", "M410", "M876"})
_PARAM = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$")


@dataclass(slots=True)
class HostCommand:
    handler: CommandHandler
    description: str


def command_word(line: str) -> str:
    return line.split(None, 1)[0].upper() if line.strip() else ""


def parse_params(line: str) -> dict[str, str]:
    """KEY=VALUE parameters of a Klipper-style command (keys upper-cased)."""
    rest = line.split(None, 1)[1] if len(line.split(None, 1)) > 1 else ""
    try:
        words = shlex.split(rest)
    except ValueError as exc:
        raise BadRequest(f"Malformed command '{line}': {exc}") from None
    params: dict[str, str] = {}
    for word in words:
        match = _PARAM.match(word)
        if match is None:
            raise BadRequest(f"Malformed command '{line}': expected KEY=VALUE, got '{word}'")
        params[match.group(1).upper()] = match.group(2)
    return params


def clean_lines(script: str) -> list[str]:
    lines = []
    for raw in script.splitlines():
        line = raw.split(";", 1)[0].strip()
        if line:
            lines.append(line)
    return lines


class Console:
    def __init__(
        self,
        link: HostLink,
        emergency_stop: Callable[[], Awaitable[None]],
        on_replies: Callable[[str, list[str]], None],
    ) -> None:
        self.link = link
        self.emergency_stop = emergency_stop
        self.on_replies = on_replies
        self.commands: dict[str, HostCommand] = {}
        self.macros: dict[str, str] = {}

    def register(self, name: str, handler: CommandHandler, description: str) -> None:
        self.commands[name.upper()] = HostCommand(handler, description)

    def unregister(self, name: str) -> None:
        self.commands.pop(name.upper(), None)

    def help(self) -> dict[str, str]:
        out = dict(MARLIN_COMMANDS)
        out.update({name: cmd.description for name, cmd in sorted(self.commands.items())})
        out.update({name: "G-Code macro" for name in sorted(self.macros) if name not in out})
        return out

    async def run(self, script: str, depth: int = 0) -> None:
        if depth > MAX_MACRO_DEPTH:
            raise BadRequest("Macros nested too deeply (a macro calling itself?)")
        batch: list[str] = []
        for line in clean_lines(script):
            word = command_word(line)
            if word == "M112":
                await self._flush(batch)
                await self.emergency_stop()
                return
            if word in OUT_OF_BAND:
                await self._flush(batch)
                await self._emergency(line)
            elif word in self.macros:
                await self._flush(batch)
                await self.run(self.macros[word], depth + 1)
            elif word in self.commands:
                await self._flush(batch)
                params = parse_params(line)
                result = self.commands[word].handler(word, params)
                if inspect.isawaitable(result):
                    await result
            else:
                batch.append(line)
        await self._flush(batch)

    async def _flush(self, batch: list[str]) -> None:
        if not batch:
            return
        script = "\n".join(batch)
        batch.clear()
        try:
            replies = await self.link.send(script)
        except GCodeError as exc:
            raise ServerError(str(exc), 400) from None
        except LinkNotReady as exc:
            raise ServerError(str(exc), 503) from None
        except LinkError as exc:
            raise ServerError(str(exc), 400) from None
        self.on_replies(script, replies)

    async def _emergency(self, line: str) -> None:
        try:
            await self.link.emergency(line)
        except LinkError as exc:
            raise ServerError(str(exc), 503) from None
