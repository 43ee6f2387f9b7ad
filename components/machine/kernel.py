"""procfs/sysfs sources of machine.proc_stats: files kept open and re-read with
``pread`` at offset 0 (procfs regenerates them without a fresh open/close per tick), the
CPU thermal zone and the Pi's throttle word found once, and the parsers of their text."""

from __future__ import annotations

import contextlib
import glob
import os

__all__ = [
    "KernelFile",
    "clk_tck",
    "find_cpu_thermal_zone",
    "find_throttled_file",
    "parse_cpu_times",
    "parse_net_dev",
    "parse_self_cpu_ticks",
    "parse_statm_rss_pages",
]

_THERMAL_EXACT = ("x86_pkg_temp", "cpu-thermal", "cpu_thermal", "soc-thermal", "soc_thermal")
_THERMAL_SUBSTR = ("cpu", "soc")

_READ_CHUNK = 16384


class KernelFile:
    """A procfs/sysfs file kept open and re-read from offset 0 on demand."""

    __slots__ = ("_fd", "path", "until")

    def __init__(self, path: str, until: bytes | None = None) -> None:
        self.path = path
        # Stop reading once this marker has been seen (e.g. b"\nintr" in
        # /proc/stat, whose interrupt line can be very long on big machines).
        self.until = until
        self._fd = -1

    def read(self) -> bytes | None:
        """Return the current contents, or None if the file is unreadable."""
        for _attempt in (0, 1):
            if self._fd < 0:
                try:
                    self._fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
                except OSError:
                    return None
            try:
                data = os.pread(self._fd, _READ_CHUNK, 0)
                if len(data) == _READ_CHUNK:
                    data = self._read_rest(data)
                return data
            except OSError:
                # e.g. a network interface or hwmon device went away: reopen once.
                self.close()
        return None

    def _read_rest(self, data: bytes) -> bytes:
        parts = [data]
        offset = len(data)
        until = self.until
        while until is None or until not in data:
            chunk = os.pread(self._fd, _READ_CHUNK, offset)
            if not chunk:
                break
            parts.append(chunk)
            offset += len(chunk)
            # Search the new chunk plus a small overlap, so a marker split
            # across two reads is still found.
            data = data[-len(until) :] + chunk if until else chunk
        return b"".join(parts)

    def close(self) -> None:
        if self._fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = -1


def find_cpu_thermal_zone(sys_root: str) -> str | None:
    """Path of the ``temp`` file of the zone that best represents the CPU."""
    zones: list[tuple[str, str]] = []
    for zone in sorted(glob.glob(os.path.join(sys_root, "class/thermal/thermal_zone*"))):
        try:
            with open(os.path.join(zone, "type"), encoding="ascii", errors="replace") as f:
                zone_type = f.read().strip().lower()
        except OSError:
            continue
        if os.path.exists(os.path.join(zone, "temp")):
            zones.append((zone_type, os.path.join(zone, "temp")))
    for wanted in _THERMAL_EXACT:
        for zone_type, temp in zones:
            if zone_type == wanted:
                return temp
    for needle in _THERMAL_SUBSTR:
        for zone_type, temp in zones:
            if needle in zone_type:
                return temp
    return None


def find_throttled_file(sys_root: str) -> str | None:
    """The Raspberry Pi firmware driver's ``get_throttled`` attribute, if any."""
    classic = os.path.join(sys_root, "devices/platform/soc/soc:firmware/get_throttled")
    if os.path.exists(classic):
        return classic
    # Pi 5 and other device trees put the firmware node elsewhere.
    for pattern in (
        "devices/platform/*firmware*/get_throttled",
        "devices/platform/*/*firmware*/get_throttled",
    ):
        found = sorted(glob.glob(os.path.join(sys_root, pattern)))
        if found:
            return found[0]
    return None


def parse_self_cpu_ticks(data: bytes) -> int | None:
    # The command name (field 2) may contain spaces and ')', so split after
    # the last ')'.  Fields 14 and 15 (utime, stime) are then at index 11, 12.
    try:
        fields = data[data.rindex(b")") + 2 :].split()
        return int(fields[11]) + int(fields[12])
    except (ValueError, IndexError):
        return None


def parse_statm_rss_pages(data: bytes) -> int | None:
    try:
        return int(data.split(None, 2)[1])
    except (ValueError, IndexError):
        return None


def parse_cpu_times(data: bytes) -> dict[str, tuple[int, int]]:
    """``{"cpu": (total, idle), "cpu0": ...}`` from ``/proc/stat``."""
    out: dict[str, tuple[int, int]] = {}
    for line in data.split(b"\n"):
        if not line.startswith(b"cpu"):
            if out:
                break  # the cpu lines are contiguous and come first
            continue
        parts = line.split()
        try:
            # user nice system idle iowait irq softirq steal [guest guest_nice]
            # guest time is already included in user/nice, so stop at steal.
            values = [int(v) for v in parts[1:9]]
        except ValueError:
            continue
        if len(values) < 4:
            continue
        idle = values[3] + (values[4] if len(values) > 4 else 0)
        out[parts[0].decode("ascii", "replace")] = (sum(values), idle)
    return out


def parse_net_dev(data: bytes) -> dict[str, list[int]]:
    """``{iface: [rx_bytes, rx_packets, rx_errs, rx_drop, tx_bytes, tx_packets,
    tx_errs, tx_drop]}`` from ``/proc/net/dev``."""
    out: dict[str, list[int]] = {}
    # Two header lines, then "<name>: <16 counters>".  Interface names cannot
    # contain ':' but the first counter may follow the colon without a space.
    for line in data.split(b"\n")[2:]:
        name, sep, rest = line.partition(b":")
        if not sep:
            continue
        cols = rest.split()
        if len(cols) < 12:
            continue
        try:
            out[name.strip().decode("utf-8", "replace")] = [
                int(cols[0]),
                int(cols[1]),
                int(cols[2]),
                int(cols[3]),
                int(cols[8]),
                int(cols[9]),
                int(cols[10]),
                int(cols[11]),
            ]
        except ValueError:
            continue
    return out


def clk_tck() -> int:
    try:
        value = os.sysconf("SC_CLK_TCK")
    except (ValueError, OSError):
        return 100
    return value if value > 0 else 100
