"""Serial port discovery for ``skysail --list-ports``.

Candidates come from two places and are merged by device:

* the tty devices a printer shows up as (``/dev/ttyUSB*``, ``/dev/ttyACM*``,
  ``/dev/ttyAMA*``, ...), described from sysfs the way pyserial's
  ``serial.tools.list_ports`` does it (USB vendor/product ids, manufacturer, product,
  serial number); on the real machine pyserial's own answer is used as well;
* the stable names in ``/dev/serial/by-id`` (and ``/dev/serial/by-path``,
  ``/dev/serial0``), which are symlinks to those devices. A by-id name survives
  reboots and replugging, so it is the name to put in ``[serial] port``.

Built-in UARTs (``/dev/ttyS*``) are listed only when something names them (a by-id or
``/dev/serialN`` link, or a USB parent): a PC has dozens of them and none is a printer.
The roots are parameters so the tests can build a fake ``/dev`` and ``/sys``.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

# Device names a printer's controller appears as (kernel and vendor drivers).
CANDIDATE_PATTERNS = (
    "ttyUSB*",  # usb-serial converters: CH340, CP210x, FTDI, PL2303
    "ttyACM*",  # CDC-ACM: boards with native USB (LPC176x, STM32, SAMD, ATmega32U4)
    "ttyAMA*",  # Raspberry Pi PL011 UART (GPIO 14/15)
    "ttyXRUSB*",  # Exar vendor driver
    "ttyCH343USB*",  # WCH vendor driver
    "ttyCH341USB*",  # WCH vendor driver
    "rfcomm*",  # Bluetooth serial
    "ttyS*",  # built-in UARTs: only when named by a link or with a USB parent
)
_ONLY_WHEN_NAMED = ("ttyS*",)


@dataclass(frozen=True)
class PortInfo:
    """One serial port that may be a printer."""

    device: str
    by_id: tuple[str, ...] = ()
    # other stable names: /dev/serial/by-path/..., /dev/serial0
    aliases: tuple[str, ...] = ()
    # kernel subsystem of the tty's device: usb, usb-serial, amba, platform, ...
    subsystem: str | None = None
    vid: int | None = None
    pid: int | None = None
    manufacturer: str | None = None
    product: str | None = None
    serial_number: str | None = None
    interface: str | None = None
    # whether this process may open it read/write (None: not checked)
    accessible: bool | None = None

    @property
    def usb_id(self) -> str | None:
        if self.vid is None or self.pid is None:
            return None
        return f"{self.vid:04x}:{self.pid:04x}"

    @property
    def config_name(self) -> str:
        """The name to put in ``[serial] port``: by-id, else /dev/serialN, else the device."""
        if self.by_id:
            return self.by_id[0]
        numbered = [a for a in self.aliases if Path(a).name.startswith("serial")]
        return numbered[0] if numbered else self.device


@dataclass
class _Links:
    by_id: dict[str, list[str]] = field(default_factory=dict)
    aliases: dict[str, list[str]] = field(default_factory=dict)


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip() or None
    except OSError:
        return None


def _hex(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return int(text, 16)
    except ValueError:
        return None


def _realpath(path: Path) -> str:
    return os.path.realpath(path)


def _links(dev_root: Path) -> _Links:
    """Map each resolved device path to the stable symlinks naming it."""
    found = _Links()
    groups: list[tuple[dict[str, list[str]], list[Path]]] = []
    for sub, target in (("by-id", found.by_id), ("by-path", found.aliases)):
        entries: list[Path] = []
        try:
            entries = sorted((dev_root / "serial" / sub).iterdir())
        except OSError:
            pass
        groups.append((target, entries))
    groups.append((found.aliases, sorted(dev_root.glob("serial[0-9]*"))))
    for target, entries in groups:
        for link in entries:
            if not link.is_symlink() or not link.exists():
                continue  # dangling: the device is gone
            target.setdefault(_realpath(link), []).append(str(link))
    return found


def _sysfs_port(name: str, sys_root: Path) -> dict[str, Any]:
    """What sysfs says about tty ``name`` (as pyserial's SysFS class reads it)."""
    info: dict[str, Any] = {}
    device_link = sys_root / "class" / "tty" / name / "device"
    if not device_link.exists():
        return info
    device_path = Path(_realpath(device_link))
    subsystem_link = device_path / "subsystem"
    subsystem = Path(_realpath(subsystem_link)).name if subsystem_link.exists() else None
    info["subsystem"] = subsystem
    if subsystem == "usb-serial":
        interface_path: Path | None = device_path.parent
    elif subsystem == "usb":
        interface_path = device_path
    else:
        interface_path = None
    if interface_path is not None:
        usb_device = interface_path.parent
        info["vid"] = _hex(_read(usb_device / "idVendor"))
        info["pid"] = _hex(_read(usb_device / "idProduct"))
        info["manufacturer"] = _read(usb_device / "manufacturer")
        info["product"] = _read(usb_device / "product")
        info["serial_number"] = _read(usb_device / "serial")
        info["interface"] = _read(interface_path / "interface")
    return info


def _pyserial_ports() -> dict[str, dict[str, Any]]:
    """pyserial's own listing, keyed by resolved device path."""
    try:
        from serial.tools import list_ports
    except ImportError:  # pragma: no cover - pyserial is a dependency
        return {}
    found: dict[str, dict[str, Any]] = {}
    for entry in list_ports.comports():
        device = getattr(entry, "device", None)
        if not isinstance(device, str):
            continue
        info: dict[str, Any] = {
            "subsystem": getattr(entry, "subsystem", None),
            "vid": entry.vid,
            "pid": entry.pid,
            "manufacturer": entry.manufacturer,
            "product": entry.product,
            "serial_number": entry.serial_number,
            "interface": entry.interface,
        }
        found[os.path.realpath(device)] = {k: v for k, v in info.items() if v is not None}
    return found


def _can_open(device: str) -> bool:
    return os.access(device, os.R_OK | os.W_OK)


def _matches(name: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)


def list_ports(
    dev_root: Path = Path("/dev"),
    sys_root: Path = Path("/sys"),
    *,
    use_pyserial: bool | None = None,
    access: Callable[[str], bool] | None = _can_open,
) -> list[PortInfo]:
    """Serial ports that may be a printer: USB ones first, then by device name.

    ``use_pyserial`` defaults to True only for the real ``/dev`` and ``/sys`` (pyserial
    reads those fixed paths). ``access`` tells whether a device can be opened (None:
    don't check).
    """
    if use_pyserial is None:
        use_pyserial = dev_root == Path("/dev") and sys_root == Path("/sys")
    links = _links(dev_root)
    from_pyserial = _pyserial_ports() if use_pyserial else {}

    candidates: dict[str, str] = {}  # resolved path -> name under dev_root
    try:
        names = sorted(p.name for p in dev_root.iterdir())
    except OSError:
        names = []
    for name in names:
        if not _matches(name, CANDIDATE_PATTERNS):
            continue
        candidates[_realpath(dev_root / name)] = name
    # a stable link to a device we don't know by name is still a serial port
    for resolved in [*links.by_id, *links.aliases]:
        if resolved not in candidates:
            candidates[resolved] = Path(resolved).name

    ports: list[PortInfo] = []
    for resolved, name in candidates.items():
        info = _sysfs_port(name, sys_root)
        for key, value in from_pyserial.get(resolved, {}).items():
            if info.get(key) is None:  # sysfs first; pyserial fills the gaps
                info[key] = value
        by_id = tuple(links.by_id.get(resolved, ()))
        aliases = tuple(links.aliases.get(resolved, ()))
        named = bool(by_id or aliases or info.get("vid") is not None)
        if _matches(name, _ONLY_WHEN_NAMED) and not named:
            continue
        if info.get("subsystem") == "platform" and not named:
            continue  # pyserial's rule: a platform tty without a device behind it
        device = str(dev_root / name) if (dev_root / name).exists() else resolved
        port = PortInfo(device=device, by_id=by_id, aliases=aliases, **info)
        if access is not None:
            port = replace(port, accessible=access(device))
        ports.append(port)
    ports.sort(key=lambda p: (p.vid is None and not p.by_id, _natural_key(p.device)))
    return ports


def _natural_key(text: str) -> tuple[str, int]:
    stem = text.rstrip("0123456789")
    digits = text[len(stem) :]
    return (stem, int(digits) if digits else -1)


def format_ports(ports: list[PortInfo]) -> str:
    """The text ``skysail --list-ports`` prints."""
    if not ports:
        return (
            "No serial ports found.\n"
            "Plug the printer in by USB, switch it on and run `skysail --list-ports` again.\n"
            "(With [serial] port: virtual, the default, Skysail runs its virtual printer.)\n"
        )
    lines = [f"Serial ports ({len(ports)}):", ""]
    for port in ports:
        lines.append(port.device)
        for link in port.by_id:
            lines.append(f"    by-id:   {link}")
        for link in port.aliases:
            lines.append(f"    alias:   {link}")
        if port.usb_id is not None:
            words = [w for w in (port.manufacturer, port.product) if w]
            text = " ".join(words)
            if port.serial_number:
                text = f"{text}, serial {port.serial_number}" if text else port.serial_number
            lines.append(f"    USB:     {port.usb_id}  {text}".rstrip())
        if port.interface:
            lines.append(f"    iface:   {port.interface}")
        if port.subsystem:
            lines.append(f"    kernel:  {port.subsystem}")
        if port.accessible is False:
            lines.append(
                "    access:  no permission to open it: add the user to the dialout group "
                "(sudo usermod -aG dialout $USER, then log in again)"
            )
        lines.append("")
    best = ports[0]
    lines += [
        "Put the port in DATA_DIR/config/moonraker.conf (a by-id name stays the same",
        "across reboots and replugging; /dev/ttyACM0 may become /dev/ttyACM1):",
        "",
        "[serial]",
        f"port: {best.config_name}",
        "",
    ]
    return "\n".join(lines)
