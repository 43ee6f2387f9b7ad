"""The ``mcu`` printer object: the firmware and the serial link's quality, shaped like
Klipper's (``mcu_version``, ``mcu_build_versions``, ``mcu_constants``, ``last_stats``) so
that Mainsail's machine page and Home Assistant can show a failing cable.

``last_stats`` uses Klipper's names where the meaning is the same (``bytes_write``,
``bytes_read``, ``bytes_retransmit``, ``send_seq``, ``receive_seq``, ``retransmit_seq``)
and adds Marlin's own: resend requests, checksum and line-number errors, timeouts."""

from __future__ import annotations

from typing import Any

from gateway.hostlink import HostLink, LinkStats

# Mainsail shows mcu_constants and last_stats as they are: numbers and short strings.
_CONSTANTS = ("MACHINE_TYPE", "EXTRUDER_COUNT", "PROTOCOL_VERSION")


def empty_mcu() -> dict[str, Any]:
    return {"mcu_version": "", "mcu_build_versions": "", "mcu_constants": {},
            "last_stats": stats_fields(None, 0)}


def stats_fields(stats: LinkStats | None, send_seq: int) -> dict[str, int]:
    if stats is None:
        return {}
    return {
        "bytes_write": stats.bytes_write,
        "bytes_read": stats.bytes_read,
        "bytes_retransmit": stats.bytes_retransmit,
        "send_seq": send_seq,
        "receive_seq": stats.lines_acknowledged,
        "retransmit_seq": stats.retransmit_seq,
        "lines_sent": stats.lines_sent,
        "lines_acknowledged": stats.lines_acknowledged,
        "resends": stats.resends,
        "resend_echoes": stats.resend_echoes,
        "checksum_errors": stats.checksum_errors,
        "line_number_errors": stats.line_number_errors,
        "other_line_errors": stats.other_line_errors,
        "timeouts": stats.timeouts,
    }


def mcu_status(link: HostLink) -> dict[str, Any]:
    """The object's fields now (cheap: read once a second)."""
    fw = link.firmware
    constants: dict[str, Any] = {
        key: fw.fields[key] for key in _CONSTANTS if key in fw.fields
    }
    constants["SERIAL_BAUD"] = link.config.baud
    constants["RX_BUFFER_SIZE"] = link.config.rx_buffer_size
    constants["ADVANCED_OK"] = int(fw.advanced_ok)
    constants["MEATPACK"] = int(link.meatpack)
    return {
        "mcu_version": fw.name,
        "mcu_build_versions": fw.fields.get("SOURCE_CODE_URL", ""),
        "mcu_constants": constants,
        "last_stats": stats_fields(link.stats(), link.next_line_number),
    }
