"""The `[mqtt]` section, typed, with Moonraker's option names and defaults."""

from __future__ import annotations

import socket
from pathlib import Path

import msgspec

PROTOCOLS = ("v3.1", "v3.1.1", "v5")
# Moonraker refuses a status_interval below a quarter second
MIN_STATUS_INTERVAL = 0.25


class MqttSection(msgspec.Struct, kw_only=True):
    address: str = ""
    port: int = 1883
    client_id: str | None = None
    enable_tls: bool = False
    username: str | None = None
    password: str | None = None
    # deprecated in Moonraker in favour of `password`; still read when set
    password_file: str | None = None
    mqtt_protocol: str = "v3.1.1"
    enable_moonraker_api: bool = True
    instance_name: str = ""
    default_qos: int = 0
    api_qos: int | None = None
    # newline separated "object" or "object=field1,field2"
    status_objects: str = ""
    status_interval: float | None = None
    publish_split_status: bool = False
    # ours: every broadcast notification also goes to {instance}/moonraker/api/notification
    publish_notifications: bool = True

    def __post_init__(self) -> None:
        if not self.address.strip():
            raise ValueError("option 'address': the broker's host name or IP address "
                             "must be provided")
        if not 0 < self.port < 65536:
            raise ValueError(f"option 'port': expected 1..65535, got {self.port}")
        if self.mqtt_protocol not in PROTOCOLS:
            raise ValueError(f"option 'mqtt_protocol': expected one of {', '.join(PROTOCOLS)}, "
                             f"got {self.mqtt_protocol!r}")
        for option in ("default_qos", "api_qos"):
            value = getattr(self, option)
            if value is not None and value not in (0, 1, 2):
                raise ValueError(f"option '{option}': expected 0, 1 or 2, got {value}")
        if not self.instance_name:
            self.instance_name = socket.gethostname()
        if any(c in self.instance_name for c in "+#/") or not self.instance_name.strip():
            raise ValueError(f"option 'instance_name': must not be empty or contain "
                             f"'+', '#' or '/', got {self.instance_name!r}")
        if self.status_interval is not None and self.status_interval != 0 \
                and self.status_interval < MIN_STATUS_INTERVAL:
            raise ValueError(f"option 'status_interval': expected 0 (publish every change) "
                             f"or at least {MIN_STATUS_INTERVAL}, got {self.status_interval}")
        parse_status_objects(self.status_objects)

    @property
    def qos_api(self) -> int:
        return self.default_qos if self.api_qos is None else self.api_qos

    def read_password(self) -> str | None:
        if self.password is not None:
            return self.password
        if self.password_file is None:
            return None
        path = Path(self.password_file).expanduser()
        try:
            return path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ValueError(f"option 'password_file': cannot read {path}: "
                             f"{exc.strerror}") from None


def parse_status_objects(text: str) -> dict[str, list[str] | None]:
    """`webhooks` / `toolhead=position,print_time` per line → {object: fields or None}.

    One line without '=' may also list several objects separated by commas."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) == 1 and "=" not in lines[0]:
        lines = [part.strip() for part in lines[0].split(",") if part.strip()]
    objects: dict[str, list[str] | None] = {}
    for line in lines:
        name, sep, fields = line.partition("=")
        name = name.strip()
        if not name:
            raise ValueError(f"option 'status_objects': no object name in {line!r}")
        if sep:
            wanted = [f.strip() for f in fields.split(",") if f.strip()]
            objects[name] = wanted or None
        else:
            objects[name] = None
    return objects
