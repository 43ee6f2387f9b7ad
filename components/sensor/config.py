"""`[sensor NAME]` sections, typed: Moonraker's options (type, name, parameter_<name>,
history_field_<name>) and those of each type. Every option is documented in
moonraker.conf.example."""

from __future__ import annotations

import msgspec

from gateway.config import Config, ConfigError

TYPES = ("mqtt", "printer")
STRATEGIES = ("basic", "accumulate", "delta", "average", "maximum", "minimum", "collect")
DYNAMIC = ("parameter_", "history_field_")


class SensorSection(msgspec.Struct, kw_only=True):
    type: str = ""
    name: str | None = None
    # measurements kept per parameter (one a second): 1200 is 20 minutes
    sensor_store_size: int = 1200

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise ValueError(f"option 'type': expected one of {', '.join(TYPES)}, "
                             f"got {self.type!r}")
        if not 1 <= self.sensor_store_size <= 100_000:
            raise ValueError(f"option 'sensor_store_size': expected 1..100000, "
                             f"got {self.sensor_store_size}")


class MqttSensorSection(SensorSection, kw_only=True):
    qos: int | None = None
    state_topic: str = ""
    state_response_template: str = ""

    def __post_init__(self) -> None:
        super().__post_init__()
        for option in ("state_topic", "state_response_template"):
            if not getattr(self, option):
                raise ValueError(f"option '{option}': must be provided for type mqtt")
        if "#" in self.state_topic or "+" in self.state_topic:
            raise ValueError("option 'state_topic': wildcards (+, #) are not allowed")
        if self.qos is not None and self.qos not in (0, 1, 2):
            raise ValueError(f"option 'qos': expected 0, 1 or 2, got {self.qos}")


class PrinterSensorSection(SensorSection, kw_only=True):
    """A sensor the printer's firmware reports (chamber, probe, board …), read from its
    Klipper-style object; `object` defaults to `temperature_sensor <NAME>`."""

    object: str | None = None
    fields: list[str] = msgspec.field(default_factory=lambda: ["temperature"])


SECTIONS: dict[str, type[SensorSection]] = {"mqtt": MqttSensorSection,
                                             "printer": PrinterSensorSection}


class HistoryField(msgspec.Struct, kw_only=True):
    field: str
    parameter: str
    description: str = ""
    strategy: str = "basic"
    units: str | None = None
    init_tracker: bool = False
    exclude_paused: bool = False
    report_total: bool = False
    report_maximum: bool = False
    precision: int | None = None


def _pairs(section: str, option: str, text: str) -> dict[str, str]:
    """`key=value` per line (Moonraker's getdict)."""
    pairs: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"[{section}] option '{option}': expected key=value lines, "
                              f"got {line.strip()!r}")
        pairs[key.strip()] = value.strip()
    return pairs


def parameters(config: Config, section: str) -> list[dict[str, str]]:
    out = []
    for option, text in config.raw(section).items():
        if option.startswith("parameter_"):
            info = _pairs(section, option, text)
            info["name"] = option[len("parameter_"):]
            out.append(info)
    return out


_BOOLS = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False}


def history_fields(config: Config, section: str) -> list[HistoryField]:
    fields = []
    for option, text in config.raw(section).items():
        if not option.startswith("history_field_"):
            continue
        pairs = _pairs(section, option, text)
        where = f"[{section}] option '{option}'"
        if "parameter" not in pairs:
            raise ConfigError(f"{where}: 'parameter' must be provided")
        values: dict[str, object] = {"field": option[len("history_field_"):],
                                  "parameter": pairs.pop("parameter"),
                                  "description": pairs.pop("desc", "")}
        for key, raw in pairs.items():
            if key in ("init_tracker", "exclude_paused", "report_total", "report_maximum"):
                if raw.lower() not in _BOOLS:
                    raise ConfigError(f"{where}: {key} expects true or false, got {raw!r}")
                values[key] = _BOOLS[raw.lower()]
            elif key == "precision":
                try:
                    values[key] = int(raw)
                except ValueError:
                    raise ConfigError(f"{where}: precision expects a whole number") from None
            elif key in ("strategy", "units"):
                values[key] = raw
            else:
                raise ConfigError(f"{where}: unknown key {key!r}")
        if values.get("strategy", "basic") not in STRATEGIES:
            raise ConfigError(f"{where}: strategy expects one of {', '.join(STRATEGIES)}")
        fields.append(msgspec.convert(values, HistoryField))
    return fields
