"""Typed structs of the core's config sections ([server], [authorization], [database],
[file_manager], [web]). Other sections are typed by the component that owns them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import msgspec


@dataclass(slots=True)
class ServerOptions:
    """The command line's choices."""

    data_dir: Path
    config_path: Path | None = None
    log_file: Path | None = None
    # the host policy file (--host-policy); None: host paths only inside data_dir
    host_policy: Path | None = None

    @property
    def resolved_config_path(self) -> Path:
        return self.config_path or self.data_dir / "config" / "moonraker.conf"


class ServerSection(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    host: str = "127.0.0.1"
    port: int = 7125
    # MiB, as Moonraker
    max_upload_size: int = 1024
    max_websocket_connections: int = 50
    # KiB; a larger frame closes the websocket with 1009 "message too big"
    max_websocket_message_size: int = 4096
    # names this server is reached by, beyond IP addresses, localhost and its host name:
    # a request trusted by its address must use one (DNS rebinding, docs/THREAT_MODEL.md)
    hostnames: list[str] = msgspec.field(default_factory=list)
    # seconds: a new connection's first request headers; silence between requests or
    # inside a request body (a handler at work is never cut)
    header_timeout: float = 20.0
    idle_timeout: float = 120.0
    # open connections per untrusted peer address (per /64 for IPv6), and from all
    # untrusted peers together; trusted peers are not capped
    max_connections_per_address: int = 64
    max_untrusted_connections: int = 512
    enable_debug_logging: bool = False
    log_level: str = "INFO"
    # MiB per log file before it rotates; backups kept
    log_max_size: int = 10
    log_backup_count: int = 3

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ValueError(f"option 'port': expected 0-65535, got {self.port}")
        if self.max_upload_size <= 0:
            raise ValueError("option 'max_upload_size': expected a positive number of MiB")
        if self.max_websocket_connections <= 0:
            raise ValueError("option 'max_websocket_connections': expected a positive integer")
        for name in ("header_timeout", "idle_timeout"):
            if getattr(self, name) <= 0:
                raise ValueError(f"option '{name}': expected a positive number of seconds")
        for name in ("max_connections_per_address", "max_untrusted_connections"):
            if getattr(self, name) <= 0:
                raise ValueError(f"option '{name}': expected a positive integer")
        if self.max_websocket_message_size <= 0:
            raise ValueError("option 'max_websocket_message_size': expected positive KiB")
        if self.log_level.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError(
                f"option 'log_level': expected DEBUG, INFO, WARNING or ERROR, got {self.log_level}"
            )


class AuthorizationSection(msgspec.Struct, kw_only=True):
    trusted_clients: list[str] = msgspec.field(default_factory=lambda: ["127.0.0.0/8", "::1/128"])
    cors_domains: list[str] = msgspec.field(default_factory=list)
    force_logins: bool = False
    default_source: str = "moonraker"
    login_timeout: int = 90
    enable_api_key: bool = True
    max_login_attempts: int | None = None

    def __post_init__(self) -> None:
        if self.default_source not in {"moonraker", "ldap"}:
            raise ValueError(
                f"option 'default_source': expected moonraker, got {self.default_source}"
            )
        if self.login_timeout <= 0:
            raise ValueError("option 'login_timeout': expected a positive number of days")


class DatabaseSection(msgspec.Struct, kw_only=True):
    # default: DATA_DIR/database
    database_path: str | None = None


class FileManagerSection(msgspec.Struct, kw_only=True):
    enable_object_processing: bool = False
    queue_gcode_uploads: bool = False
    enable_config_write_access: bool = True
    check_klipper_config_path: bool = False


class WebSection(msgspec.Struct, kw_only=True):
    # a built Mainsail or Fluidd folder served at / from the same origin
    path: str | None = None
