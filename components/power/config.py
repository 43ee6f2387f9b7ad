"""`[power NAME]` sections, typed: Moonraker's options common to every device, and those of
each type. Every option is documented in moonraker.conf.example."""

from __future__ import annotations

import msgspec

TYPES = ("gpio", "tasmota", "shelly", "homeassistant", "http", "mqtt", "marlin")
MIN_POLL_INTERVAL = 1.0


class PowerSection(msgspec.Struct, kw_only=True):
    type: str = ""
    # "on" / "off": set at start-up; none: leave the device as it is
    initial_state: str | None = None
    off_when_shutdown: bool = False
    off_when_shutdown_delay: float = 0.0
    on_when_job_queued: bool = False
    locked_while_printing: bool = False
    # Moonraker's name; here it reconnects the printer's serial link after power-on
    restart_klipper_when_powered: bool = False
    restart_delay: float = 1.0
    bound_services: list[str] = []
    restrict_action_processing: bool = True

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise ValueError(f"option 'type': expected one of {', '.join(TYPES)}, "
                             f"got {self.type!r}")
        if self.initial_state is not None:
            self.initial_state = self.initial_state.strip().lower()
            if self.initial_state not in ("on", "off"):
                raise ValueError(f"option 'initial_state': expected on or off, "
                                 f"got {self.initial_state!r}")
        for option in ("off_when_shutdown_delay", "restart_delay"):
            if getattr(self, option) < 0:
                raise ValueError(f"option '{option}': expected a number >= 0")
        poll = getattr(self, "poll_interval", None)
        if poll is not None and poll < MIN_POLL_INTERVAL:
            raise ValueError(f"option 'poll_interval': expected at least "
                             f"{MIN_POLL_INTERVAL} seconds, got {poll}")
        timer = getattr(self, "timer", None)
        if timer is not None and timer <= 0:
            raise ValueError("option 'timer': expected a positive number of seconds")


def _required(section: PowerSection, *options: str) -> None:
    for option in options:
        if not getattr(section, option):
            raise ValueError(f"option '{option}': must be provided for type "
                             f"{section.type}")


class GpioSection(PowerSection, kw_only=True):
    pin: str = ""
    timer: float | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        _required(self, "pin")


class TasmotaSection(PowerSection, kw_only=True):
    address: str = ""
    password: str = ""
    output_id: int = 1
    timer: float | None = None
    poll_interval: float | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        _required(self, "address")


class ShellySection(PowerSection, kw_only=True):
    address: str = ""
    user: str | None = None
    password: str = ""
    output_id: int = 0
    timer: float | None = None
    poll_interval: float | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        _required(self, "address")


class HomeAssistantSection(PowerSection, kw_only=True):
    address: str = ""
    protocol: str = "http"
    port: int = 8123
    device: str = ""
    token: str = ""
    domain: str = "switch"
    status_delay: float = 1.0
    poll_interval: float | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        _required(self, "address", "device", "token")
        if self.protocol not in ("http", "https"):
            raise ValueError(f"option 'protocol': expected http or https, "
                             f"got {self.protocol!r}")
        if self.status_delay < 0:
            raise ValueError("option 'status_delay': expected a number >= 0")


class HttpSection(PowerSection, kw_only=True):
    on_url: str = ""
    off_url: str = ""
    status_url: str = ""
    request_template: str | None = None
    response_template: str = ""
    poll_interval: float | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        _required(self, "on_url", "off_url", "status_url", "response_template")


class MqttDeviceSection(PowerSection, kw_only=True):
    qos: int | None = None
    command_topic: str = ""
    command_payload: str = ""
    retain_command_state: bool = False
    state_topic: str = ""
    state_response_template: str = "{payload}"
    state_timeout: float = 2.0
    query_topic: str | None = None
    query_payload: str | None = None
    query_after_command: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        _required(self, "command_topic", "command_payload", "state_topic")
        if self.qos is not None and self.qos not in (0, 1, 2):
            raise ValueError(f"option 'qos': expected 0, 1 or 2, got {self.qos}")
        if self.state_timeout <= 0:
            raise ValueError("option 'state_timeout': expected a positive number")
        for option in ("command_topic", "state_topic", "query_topic"):
            topic = getattr(self, option)
            if topic and ("#" in topic or "+" in topic):
                raise ValueError(f"option '{option}': wildcards (+, #) are not allowed")


class MarlinSection(PowerSection, kw_only=True):
    """The printer's own power supply through M80/M81 (Cap:SOFTWARE_POWER)."""


SECTIONS: dict[str, type[PowerSection]] = {
    "gpio": GpioSection,
    "tasmota": TasmotaSection,
    "shelly": ShellySection,
    "homeassistant": HomeAssistantSection,
    "http": HttpSection,
    "mqtt": MqttDeviceSection,
    "marlin": MarlinSection,
}
