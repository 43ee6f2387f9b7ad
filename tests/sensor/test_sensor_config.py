"""[sensor NAME] options documented in the example; history fields and their trackers."""

from __future__ import annotations

import msgspec
import pytest

from components.sensor.config import SECTIONS, HistoryField, history_fields, parameters
from components.sensor.tracking import FieldTracker
from gateway.config import Config, ConfigError
from tests.config_example import commented_config

EXAMPLES = {"mqtt": "power_meter", "printer": "chamber"}


@pytest.mark.parametrize("kind", sorted(SECTIONS))
def test_the_example_documents_every_option(kind: str) -> None:
    header = f"sensor {EXAMPLES[kind]}"
    config = commented_config(header)
    options = {o for o in config.raw(header) if not o.startswith(("parameter_", "history_"))}
    declared = {f.name for f in msgspec.structs.fields(SECTIONS[kind])}
    # the options every type has are all shown on the mqtt example
    common = {f.name for f in msgspec.structs.fields(SECTIONS["mqtt"])} & declared
    assert options <= declared
    assert declared - common <= options
    if kind == "mqtt":
        assert options == declared
    assert config.section(header, SECTIONS[kind], dynamic=("parameter_", "history_field_"))


def test_parameters_and_history_fields_are_read_as_moonraker_reads_them() -> None:
    config = commented_config("sensor power_meter")
    assert parameters(config, "sensor power_meter") == [
        {"units": "W", "name": "power"}, {"units": "kWh", "name": "energy"}]
    [field] = history_fields(config, "sensor power_meter")
    assert field == HistoryField(field="energy_used", parameter="energy",
                                 description="Printer energy used", strategy="delta",
                                 units="kWh", precision=3, report_total=True,
                                 report_maximum=True)


@pytest.mark.parametrize(("text", "message"), [
    ("history_field_x:\n  desc=no parameter", "'parameter' must be provided"),
    ("history_field_x:\n  parameter=a\n  strategy=median", "strategy expects"),
    ("history_field_x:\n  parameter=a\n  precision=two", "precision expects"),
    ("history_field_x:\n  parameter=a\n  colour=red", "unknown key 'colour'"),
    ("parameter_a:\n  just words", "expected key=value"),
])
def test_bad_fields_name_the_section_and_option(text: str, message: str) -> None:
    config = Config.from_string("[sensor s]\ntype: mqtt\n" + text)
    with pytest.raises(ConfigError, match=message):
        history_fields(config, "sensor s")
        parameters(config, "sensor s")


def track(strategy: str, values: list[tuple[float, bool]], **options: object) -> object:
    field = msgspec.convert({"field": "f", "parameter": "p", "strategy": strategy, **options},
                            HistoryField)
    tracker = FieldTracker(field, "sensor s")
    tracker.reset(5.0)  # the measurement last seen before the job
    for value, paused in values:
        tracker.update(value, paused)
    return tracker.result()


# readings during the job: 2, then 3 while paused, then 1 and 4
READINGS = [(2.0, False), (3.0, True), (1.0, False), (4.0, False)]


@pytest.mark.parametrize(("strategy", "options", "expected"), [
    ("basic", {}, 4.0),
    ("accumulate", {}, 10.0),
    ("accumulate", {"init_tracker": True, "exclude_paused": True}, 12.0),
    ("delta", {}, 2.0),
    ("delta", {"init_tracker": True}, -1.0),
    ("delta", {"exclude_paused": True}, 3.0),
    ("average", {}, 2.5),
    ("average", {"exclude_paused": True}, 7.0 / 3),
    ("maximum", {}, 4.0),
    ("minimum", {"init_tracker": True}, 1.0),
    ("collect", {}, [2.0, 3.0, 1.0, 4.0]),
    ("basic", {"precision": 0}, 4),
])
def test_tracking_strategies(strategy: str, options: dict[str, object], expected: object
                             ) -> None:
    assert track(strategy, READINGS, **options) == pytest.approx(expected)
