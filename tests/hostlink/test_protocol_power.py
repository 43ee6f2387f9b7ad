"""The firmware's words read by the protocol for components: the power supply, the
version, the command an "Unknown command" error names."""

from __future__ import annotations

import pytest

from gateway.hostlink.protocol.parsing import (
    parse_marlin_version,
    parse_psu_state,
    unknown_command,
)


@pytest.mark.parametrize(("line", "state"), [
    ("PS:1", True), ("PS:0", False), ("  PS:1 ", True), ("ok", None), ("PS:2", None),
])
def test_m80_s_answers(line: str, state: bool | None) -> None:
    assert parse_psu_state(line) is state


@pytest.mark.parametrize(("name", "version"), [
    ("Marlin 2.1.2.1 (Sep  1 2023 12:00:00)", (2, 1, 2)),
    ("Marlin bugfix-2.1.x", (2, 1, 0)),
    ("Marlin 2.0.9", (2, 0, 9)),
    ("Marlin V1.1.9", (1, 1, 9)),
    ("Prusa-Firmware 3.13.2", None),
    ("", None),
])
def test_marlin_versions(name: str, version: tuple[int, int, int] | None) -> None:
    assert parse_marlin_version(name) == version


@pytest.mark.parametrize(("message", "command"), [
    ('Unknown command: "M211 S1"', "M211 S1"),
    ('Unknown command: "G999"', "G999"),
    ("Unknown command", ""),
])
def test_the_command_an_unknown_command_error_names(message: str, command: str) -> None:
    assert unknown_command(message) == command
