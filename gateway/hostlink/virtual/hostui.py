"""Host action commands and prompts the simulated firmware shows (Marlin's hostui)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .firmware import Firmware


def action(fw: Firmware, name: str) -> None:
    if fw.cfg.host_action_commands:
        fw.emit("//action:" + name)


def prompt(fw: Firmware, reason: str, message: str, buttons: list[str]) -> None:
    """``hostui.prompt_do``: end any prompt, then begin/button.../show."""
    if not (fw.cfg.host_action_commands and fw.cfg.prompt_support):
        return
    fw.emit("//action:prompt_end")
    fw.emit("//action:prompt_begin " + message)
    for b in buttons:
        fw.emit("//action:prompt_button " + b)
    fw.emit("//action:prompt_show")
    fw.prompt_reason = reason


def prompt_end(fw: Firmware) -> None:
    if fw.cfg.host_action_commands and fw.cfg.prompt_support:
        fw.emit("//action:prompt_end")
    fw.prompt_reason = None
