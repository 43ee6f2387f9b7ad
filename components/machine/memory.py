"""/proc/meminfo, read one way for everyone: machine.proc_stats' system_memory,
machine.system_info's total_memory and the printer's system_stats.memavail."""

from __future__ import annotations

from typing import TypedDict


class SystemMemory(TypedDict, total=False):
    """kB, as the kernel counts them."""

    total: int
    available: int
    used: int


def parse_meminfo(data: bytes) -> SystemMemory:
    """{total, available, used} from /proc/meminfo's text; {} if it makes no sense."""
    total = available = free = buffers = cached = -1
    for line in data.split(b"\n"):
        key, _, rest = line.partition(b":")
        if key == b"MemTotal":
            total = _first_int(rest)
        elif key == b"MemAvailable":
            available = _first_int(rest)
            break  # third line; nothing further needed
        elif key == b"MemFree":
            free = _first_int(rest)
        elif key == b"Buffers":
            buffers = _first_int(rest)
        elif key == b"Cached":
            cached = _first_int(rest)
    if total < 0:
        return {}
    if available < 0:
        # Kernels before 3.14 have no MemAvailable; approximate it.
        if free < 0:
            return {}
        available = free + max(buffers, 0) + max(cached, 0)
    return {"total": total, "available": available, "used": total - available}


def _first_int(text: bytes) -> int:
    try:
        return int(text.split()[0])
    except (ValueError, IndexError):
        return -1
