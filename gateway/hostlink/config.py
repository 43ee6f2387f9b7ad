"""Typed options of the ``[serial]`` config section.

The config loader converts the INI section (all strings) with
``msgspec.convert(section, SerialConfig, strict=False)``, so every option is a
plain typed field with a default. ``__post_init__`` rejects values that cannot
work, naming the option, so start-up stops with a useful message.
"""

from __future__ import annotations

import msgspec

ADVANCED_OK_MODES = ("auto", "on", "off")
MEATPACK_MODES = ("auto", "off")
# The smallest MAX_CMD_SIZE that leaves a command room beside the line number and checksum.
MIN_COMMAND_SIZE = 48


class SerialConfig(msgspec.Struct, kw_only=True):
    # Device path (``/dev/ttyUSB0``, ``/dev/serial/by-id/...``), a pyserial URL,
    # or ``virtual`` for the built-in virtual printer.
    port: str = "virtual"
    baud: int = 250000
    # Marlin's RX buffer (128 bytes on AVR unless RX_BUFFER_SIZE is set). Bytes
    # waiting in that buffer are kept at or below this many.
    rx_buffer_size: int = 128
    # Marlin's MAX_CMD_SIZE (96 by default): the firmware keeps at most this many bytes
    # less one of a line, "N<n> " and "*<checksum>" included, and cuts the rest, so a
    # longer line would be refused every time it is sent. Such lines are never sent.
    max_command_size: int = 96
    # auto: several lines in flight once ``ok N.. P.. B..`` (ADVANCED_OK) replies are
    # seen; on: from the start (the firmware must have ADVANCED_OK); off: one line.
    advanced_ok: str = "auto"
    # Hard cap on numbered lines in flight with advanced_ok.
    max_in_flight: int = 16
    # auto: pack lines with MeatPack when the firmware reports Cap:MEATPACK:1 (and
    # confirms it), back to plain text on trouble; off: always plain text.
    meatpack: str = "auto"
    # Seconds to get through the handshake (M110/M115) after the port opens.
    connect_timeout: float = 10.0
    # Seconds of silence (no ok/busy/reply) before the firmware is poked, and
    # again before it is declared unresponsive. ``busy:`` restarts the clock.
    response_timeout: float = 10.0
    # M155 S<n> (or M105 polling) period in seconds; 0 disables.
    temperature_report_interval: float = 1.0
    # M154 S<n> (or M114 polling while idle) period in seconds; 0 disables.
    position_report_interval: float = 0.0
    # Consecutive resend requests for one line before the link gives up.
    max_resends_per_line: int = 10
    # Seconds between checks for a vanished port coming back.
    reconnect_interval: float = 2.0

    # Options of the built-in virtual printer (used when port == "virtual");
    # its baud rate is ``baud`` above.
    virtual_time_scale: float = 1.0
    virtual_advanced_ok: bool = True
    virtual_bufsize: int = 4
    virtual_emergency_parser: bool = True
    virtual_autoreport_temp: bool = True
    virtual_autoreport_pos: bool = True
    virtual_command_delay: float = 0.0
    # PSU control: M80/M81 and Cap:SOFTWARE_POWER ([power NAME] type: marlin)
    virtual_software_power: bool = False
    # extra temperature sensors reported: "C" chamber, "P" probe, "M" board (e.g. CPM)
    virtual_extra_sensors: str = ""
    # the virtual board has a heated chamber (M141/M191, reported as C: in M105)
    virtual_heated_chamber: bool = False
    # the virtual board is built with BABYSTEPPING (M290: SET_GCODE_OFFSET Z moves the
    # nozzle at once) — off, the host adds Z offsets to the moves it sends
    virtual_babystepping: bool = False
    virtual_meatpack: bool = False
    # the virtual board's MAX_CMD_SIZE (its own build option, apart from the host's)
    virtual_max_command_size: int = 96

    def __post_init__(self) -> None:
        self.advanced_ok = self.advanced_ok.strip().lower()
        self.meatpack = self.meatpack.strip().lower()
        _require(bool(self.port.strip()), "port", "a device path or 'virtual'", self.port)
        _require(self.baud > 0, "baud", "a positive number", self.baud)
        _require(
            self.rx_buffer_size >= 32, "rx_buffer_size", "at least 32 bytes", self.rx_buffer_size
        )
        _require(
            self.max_command_size >= MIN_COMMAND_SIZE,
            "max_command_size",
            f"at least {MIN_COMMAND_SIZE} bytes",
            self.max_command_size,
        )
        _require(
            self.advanced_ok in ADVANCED_OK_MODES,
            "advanced_ok",
            "auto, on or off",
            self.advanced_ok,
        )
        _require(self.meatpack in MEATPACK_MODES, "meatpack", "auto or off", self.meatpack)
        _require(self.max_in_flight >= 1, "max_in_flight", "at least 1", self.max_in_flight)
        for name in ("connect_timeout", "response_timeout", "reconnect_interval"):
            _require(
                getattr(self, name) > 0, name, "a positive number of seconds", getattr(self, name)
            )
        for name in ("temperature_report_interval", "position_report_interval"):
            _require(
                getattr(self, name) >= 0, name, "seconds >= 0 (0 disables)", getattr(self, name)
            )
        _require(
            self.max_resends_per_line >= 1,
            "max_resends_per_line",
            "at least 1",
            self.max_resends_per_line,
        )
        _require(
            self.virtual_time_scale > 0,
            "virtual_time_scale",
            "a positive number",
            self.virtual_time_scale,
        )
        _require(
            self.virtual_max_command_size >= MIN_COMMAND_SIZE,
            "virtual_max_command_size",
            f"at least {MIN_COMMAND_SIZE} bytes",
            self.virtual_max_command_size,
        )
        _require(self.virtual_bufsize >= 1, "virtual_bufsize", "at least 1", self.virtual_bufsize)
        _require(
            self.virtual_command_delay >= 0,
            "virtual_command_delay",
            "seconds >= 0",
            self.virtual_command_delay,
        )


def _require(ok: bool, option: str, expected: str, value: object) -> None:
    if not ok:
        raise ValueError(f"[serial] option '{option}': expected {expected}, got {value!r}")
