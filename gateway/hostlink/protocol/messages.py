"""Firmware lines that are neither ``ok``, ``Resend``, ``Error:`` nor ``start``/``wait``:
what they mean (typed events) and whether they belong to the command being run.

Every piece of Marlin's informational text the rest of Skysail cares about is turned
into an event here, so nothing above the protocol reads firmware text: temperature and
position reports, M115's description and build area, M211's soft endstops, SD card
state and listings, host action commands and prompts, ``busy:`` and MeatPack state
reports.
"""

from __future__ import annotations

from .events import (
    ActionCommand,
    Busy,
    CapabilityReport,
    EchoMessage,
    Event,
    FirmwareInfo,
    MeatPackState,
    PositionReport,
    PromptClosed,
    PromptShown,
    SdCardChanged,
    SdFile,
    SdFileList,
    SdFileOpened,
    SdPrintDone,
    TemperatureReport,
)
from .parsing import (
    is_position_line,
    is_temperature_line,
    parse_build_area,
    parse_capability,
    parse_file_opened,
    parse_key_fields,
    parse_meatpack_state,
    parse_position,
    parse_sd_file,
    parse_sd_status,
    parse_setting,
    parse_soft_endstops,
    parse_temperatures,
)

# What ``read`` says about the line's place in the command/reply pairing.
NOT_A_REPLY = None  # unsolicited: never attached to a command
REPLY = ""  # a reply of the command being executed
# any other value: a reply only if the command being executed is that word (M114, M27)

# Marlin's SD card messages (``echo:`` prefixed); the first group means a card is ready.
_CARD_READY = ("SD card ok", "SD card inserted")
_CARD_GONE = ("SD card released", "SD card removed", "SD init fail", "No SD card")


class MessageReader:
    """Turns message lines into events; keeps the state of multi-line messages
    (an M20 listing, a prompt being built)."""

    def __init__(self) -> None:
        self._file_list: list[SdFile] | None = None
        self._prompt: tuple[str, list[str]] | None = None

    def reset(self) -> None:
        self._file_list = None
        self._prompt = None

    def read(self, line: str, out: list[Event], head: str | None = None) -> str | None:
        """Append the events of ``line`` to ``out``; return NOT_A_REPLY, REPLY or the
        command word the line answers. ``head`` is the command being executed."""
        if self._file_list is not None:
            if line == "End file list":
                out.append(SdFileList(tuple(self._file_list)))
                self._file_list = None
            else:
                self._file_list.append(parse_sd_file(line))
            return REPLY
        c0 = line[:1]
        if c0 == "e" and line[:5] == "echo:":
            return self._echo(line[5:], out, head)
        if c0 == "b" and line[:5] == "busy:":
            out.append(Busy(line[5:].strip()))
            return NOT_A_REPLY
        if c0 == "/" and line[:9] == "//action:":
            self._action(line[9:].strip(), out)
            return NOT_A_REPLY
        if is_temperature_line(line):
            # Auto-reports and M109/M190 progress: never a command's reply.
            out.append(TemperatureReport(parse_temperatures(line), solicited=False))
            return NOT_A_REPLY
        if is_position_line(line):
            axes, counts = parse_position(line)
            out.append(PositionReport(axes, counts))
            return "M114"
        return self._other(line, out)

    def _other(self, line: str, out: list[Event]) -> str | None:
        if line[:4] == "Cap:":
            cap = parse_capability(line)
            if cap is not None:
                out.append(CapabilityReport(cap[0], cap[1]))
        elif line[:5] == "area:":
            area = parse_build_area(line)
            if area is not None:
                out.append(area)
        elif line[:14] == "FIRMWARE_NAME:":
            out.append(FirmwareInfo(parse_key_fields(line)))
        elif line == "Begin file list":
            self._file_list = []
        elif (line[:3] == "SD " or line[:4] == "Not ") and (
            status := parse_sd_status(line)
        ) is not None:
            out.append(status)
            return "M27"
        elif line[:12] == "File opened:":
            opened = parse_file_opened(line)
            if opened is not None:
                out.append(SdFileOpened(opened[0], opened[1]))
        elif line == "Done printing file":
            out.append(SdPrintDone())
            return NOT_A_REPLY
        elif line[:4] == "[MP]":
            state = parse_meatpack_state(line)
            if state is not None:
                out.append(MeatPackState(*state))
            return NOT_A_REPLY
        elif line in _CARD_READY or line.startswith(_CARD_GONE):
            out.append(SdCardChanged(line in _CARD_READY, line))
        return REPLY

    def _echo(self, rest: str, out: list[Event], head: str | None) -> str | None:
        body = rest.strip()
        if body[:5] == "busy:":
            out.append(Busy(body[5:].strip()))
            return NOT_A_REPLY
        if "Min:" in body and "Max:" in body and (
            limits := parse_soft_endstops(body)
        ) is not None:
            # M211's report: state for the host, and the reply of an M211 typed in a console
            out.append(limits)
            return REPLY
        if rest[:1] == " " and (setting := parse_setting(body)) is not None:
            # an M503 line: state for the host, and the reply of an M503 typed in a console
            out.append(setting)
            return REPLY
        if body in _CARD_READY or body.startswith(_CARD_GONE):
            out.append(SdCardChanged(body in _CARD_READY, body))
        out.append(EchoMessage(rest, head))
        return NOT_A_REPLY

    def _action(self, body: str, out: list[Event]) -> None:
        name, _, argument = body.partition(" ")
        argument = argument.strip()
        out.append(ActionCommand(name, argument))
        if name == "prompt_begin":
            self._prompt = (argument, [])
        elif name in ("prompt_choice", "prompt_button"):
            if self._prompt is not None:
                self._prompt[1].append(argument)
        elif name == "prompt_show":
            if self._prompt is not None:
                out.append(PromptShown(self._prompt[0], tuple(self._prompt[1])))
        elif name == "prompt_end":
            self._prompt = None
            out.append(PromptClosed())
