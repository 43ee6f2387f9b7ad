"""[power NAME] options: every type's options are documented in the example, and bad
values name the section and option."""

from __future__ import annotations

import msgspec
import pytest

from components.power.config import SECTIONS, PowerSection
from gateway.config import Config, ConfigError
from tests.config_example import commented_config

EXAMPLES = {"marlin": "psu", "gpio": "relay", "tasmota": "plug", "shelly": "shelly_plug",
            "homeassistant": "lamp", "http": "generic", "mqtt": "mqtt_plug"}
COMMON = {f.name for f in msgspec.structs.fields(PowerSection)}


@pytest.mark.parametrize("kind", sorted(SECTIONS))
def test_the_example_documents_every_option_of_every_type(kind: str) -> None:
    header = f"power {EXAMPLES[kind]}"
    config = commented_config(header)
    options = set(config.raw(header))
    declared = {f.name for f in msgspec.structs.fields(SECTIONS[kind])}
    assert options <= declared
    assert declared - COMMON <= options
    section = config.section(header, SECTIONS[kind])
    assert section.type == kind


def test_the_common_options_are_all_shown_once() -> None:
    assert set(commented_config("power psu").raw("power psu")) == COMMON


@pytest.mark.parametrize(("text", "message"), [
    ("type: toaster", "option 'type'"),
    ("type: gpio", "option 'pin'"),
    ("type: tasmota\naddress: a\npoll_interval: 0.5", "option 'poll_interval'"),
    ("type: tasmota\naddress: a\ninitial_state: maybe", "option 'initial_state'"),
    ("type: homeassistant\naddress: a\ndevice: d", "option 'token'"),
    ("type: mqtt\ncommand_topic: a/#\ncommand_payload: x\nstate_topic: b",
     "option 'command_topic'"),
    ("type: shelly\naddress: a\ntimer: 0", "option 'timer'"),
])
def test_bad_values_name_the_option(text: str, message: str) -> None:
    config = Config.from_string("[power dev]\n" + text)
    kind = config.raw("power dev")["type"]
    with pytest.raises(ConfigError, match=rf"\[power dev\] {message}"):
        config.section("power dev", SECTIONS.get(kind, PowerSection))
