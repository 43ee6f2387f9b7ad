"""The commands of the OctoPrint WS281x LED Status API (`POST /api/plugin/ws281x_led_status`,
also `led.command`), checked here and applied to the controller.

| command          | parameters | effect                                                 |
| lights_on        | -          | lights on                                              |
| lights_off       | -          | lights off                                             |
| torch_on         | -          | torch on (toggle: until torch_off; timed: torch_time)  |
| torch_off        | -          | torch off; only when torch_mode is toggle              |
| test_os_config   | -          | starts the OS configuration test; results arrive as    |
|                  |            | notify_led_os_config_test notifications                |
| test_led         | color      | shows `color` (#rrggbb) until the printer state changes |

Every command answers the plugin's state, {"lights_on": bool, "torch_on": bool}.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from components.led.colors import Pixel, parse_color
from gateway.errors import BadRequest

COMMANDS: dict[str, tuple[str, ...]] = {
    "lights_on": (),
    "lights_off": (),
    "torch_on": (),
    "torch_off": (),
    "test_os_config": (),
    "test_led": ("color",),
}
_SEVEN_CHAR_HEX = re.compile(r"#[0-9a-fA-F]{6}")


def check_command(args: Mapping[str, object]) -> str:
    """The command named in `args`, with its parameters present; BadRequest otherwise."""
    command = args.get("command")
    if command is None:
        raise BadRequest("No command given: expected one of " + ", ".join(COMMANDS))
    if not isinstance(command, str) or command not in COMMANDS:
        raise BadRequest(f"Unknown command: {command}; expected one of " + ", ".join(COMMANDS))
    missing = [p for p in COMMANDS[command] if p not in args]
    if missing:
        raise BadRequest(f"Mandatory parameters missing for command {command}: "
                         + ", ".join(missing))
    return command


def test_color(value: object) -> Pixel:
    """test_led's colour: a full 7 character HTML hex colour such as #ff00ff."""
    if not isinstance(value, str) or _SEVEN_CHAR_HEX.fullmatch(value) is None:
        raise BadRequest(f"Malformed color {value!r}: expected a 7 character hex colour "
                         "such as #ff00ff")
    return parse_color(value)
