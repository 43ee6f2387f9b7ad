"""The virtual printer a ``[serial] port: virtual`` configuration asks for."""

from __future__ import annotations

from ..config import SerialConfig
from .config import VirtualPrinterConfig
from .printer import VirtualPrinter


def from_serial_config(config: SerialConfig) -> VirtualPrinter:
    """A virtual printer built with the ``virtual_*`` options of ``[serial]``."""
    return VirtualPrinter(
        VirtualPrinterConfig(
            baud=config.baud,
            bufsize=config.virtual_bufsize,
            rx_buffer_size=config.rx_buffer_size,
            max_cmd_size=config.virtual_max_command_size,
            advanced_ok=config.virtual_advanced_ok,
            emergency_parser=config.virtual_emergency_parser,
            autoreport_temp=config.virtual_autoreport_temp,
            autoreport_pos=config.virtual_autoreport_pos,
            time_scale=config.virtual_time_scale,
            command_delay=config.virtual_command_delay,
            meatpack=config.virtual_meatpack,
            software_power=config.virtual_software_power,
            extra_sensors=config.virtual_extra_sensors,
            heated_chamber=config.virtual_heated_chamber,
            babystepping=config.virtual_babystepping,
        )
    )
