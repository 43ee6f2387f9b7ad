"""[mqtt] options: Moonraker's names, checked values, all documented in the example."""

from __future__ import annotations

import msgspec
import pytest

from components.mqtt.config import MqttSection, parse_status_objects
from gateway.config import Config, ConfigError
from tests.config_example import commented_config, commented_section


def test_the_example_documents_every_option_and_parses() -> None:
    options = commented_section("mqtt")
    assert set(options) == {f.name for f in msgspec.structs.fields(MqttSection)}
    section = commented_config("mqtt").section("mqtt", MqttSection)
    assert parse_status_objects(section.status_objects)["extruder"] == ["temperature",
                                                                        "target"]


def test_status_objects_lines_and_fields() -> None:
    assert parse_status_objects("webhooks\ntoolhead=position,print_time\nextruder=") == {
        "webhooks": None, "toolhead": ["position", "print_time"], "extruder": None}
    assert parse_status_objects("webhooks, print_stats") == {"webhooks": None,
                                                             "print_stats": None}
    assert parse_status_objects("") == {}


@pytest.mark.parametrize(("text", "message"), [
    ("port: 1883", "option 'address'"),
    ("address: b\nmqtt_protocol: v4", "option 'mqtt_protocol'"),
    ("address: b\ndefault_qos: 3", "option 'default_qos'"),
    ("address: b\ninstance_name: a/b", "option 'instance_name'"),
    ("address: b\nstatus_interval: 0.1", "option 'status_interval'"),
    ("address: b\nport: 0", "option 'port'"),
])
def test_bad_values_name_the_option(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Config.from_string("[mqtt]\n" + text).section("mqtt", MqttSection)


def test_instance_name_defaults_to_the_host_name() -> None:
    import socket

    section = Config.from_string("[mqtt]\naddress: b").section("mqtt", MqttSection)
    assert section.instance_name == socket.gethostname()
    assert section.qos_api == 0
