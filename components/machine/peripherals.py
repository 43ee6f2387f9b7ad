"""machine.peripherals.*: the devices Mainsail's dialogs offer (serial ports, USB devices,
cameras, CAN interfaces), read from sysfs and /dev only. No device is opened."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from msgspec import Meta

from gateway.errors import BadRequest
from gateway.registry import Params
from gateway.request import Request

if TYPE_CHECKING:
    from gateway.api import ServerApi

_USB_OPTIONAL = ("manufacturer", "product", "serial")


class CanbusArgs(Params):
    # a network interface name (Linux allows 15 characters)
    interface: Annotated[str, Meta(pattern=r"^[A-Za-z0-9_.:-]{1,15}$")] = "can0"


class Peripherals:
    def __init__(self, server: ServerApi, *, sys_root: str = "/sys",
                 dev_root: str = "/dev") -> None:
        self.sys = Path(sys_root)
        self.dev = Path(dev_root)
        reg = server.register_endpoint
        reg("machine.peripherals.serial", self.serial, http="GET /machine/peripherals/serial")
        reg("machine.peripherals.usb", self.usb, http="GET /machine/peripherals/usb")
        reg("machine.peripherals.video", self.video, http="GET /machine/peripherals/video")
        reg("machine.peripherals.canbus", self.canbus, params=CanbusArgs,
            http="GET /machine/peripherals/canbus")

    async def serial(self, request: Request) -> dict[str, object]:
        return {"serial_devices": await asyncio.to_thread(find_serial, self.sys, self.dev)}

    async def usb(self, request: Request) -> dict[str, object]:
        return {"usb_devices": await asyncio.to_thread(find_usb, self.sys)}

    async def video(self, request: Request) -> dict[str, object]:
        devices = await asyncio.to_thread(find_video, self.sys, self.dev)
        return {"v4l2_devices": devices, "libcamera_devices": []}

    def canbus(self, args: CanbusArgs, request: Request) -> dict[str, object]:
        interface = args.interface
        if not (self.sys / "class" / "net" / interface).exists():
            # the caller named an interface this host does not have
            raise BadRequest(f"Unable to bind socket to interface '{interface}'")
        # Klipper's CAN UUID query means nothing to Marlin boards: none to report
        return {"can_uuids": []}


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except (OSError, UnicodeDecodeError):
        return None


def _links(folder: Path) -> dict[str, str]:
    """/dev/serial/by-id style folders: target device name -> link path."""
    if not folder.is_dir():
        return {}
    result: dict[str, str] = {}
    for link in folder.iterdir():
        with contextlib.suppress(OSError):
            result[link.resolve().name] = str(link)
    return result


def _hex(text: str | None) -> int | None:
    try:
        return int(text or "", 16)
    except ValueError:
        return None


def usb_location(path: Path) -> str | None:
    """"bus:device" of the USB device a sysfs folder belongs to (walking up)."""
    while path.name:
        devnum, busnum = _read(path / "devnum"), _read(path / "busnum")
        if devnum is not None and busnum is not None:
            try:
                return f"{int(busnum)}:{int(devnum)}"
            except ValueError:
                return None
        path = path.parent
    return None


def find_serial(sys_root: Path, dev_root: Path) -> list[dict[str, object]]:
    tty_dir = sys_root / "class" / "tty"
    if not tty_dir.is_dir():
        return []
    by_path = _links(dev_root / "serial" / "by-path")
    by_id = _links(dev_root / "serial" / "by-id")
    devices: list[dict[str, object]] = []
    for tty in sorted(tty_dir.iterdir()):
        device = tty / "device"
        if not device.is_dir():
            continue
        name = tty.name
        driver = (device / "driver").resolve().name if (device / "driver").exists() else ""
        info: dict[str, object] = {
            "device_type": "unknown",
            "device_path": str(dev_root / name),
            "device_name": name,
            "driver_name": driver,
            "path_by_hardware": by_path.get(name),
            "path_by_id": by_id.get(name),
            "usb_location": None,
        }
        if (tty / "uartclk").is_file() and (tty / "port").is_file():
            # legacy 8250 ports other than port 0 are placeholders, not UARTs
            if driver == "serial8250" and _hex(_read(tty / "port")) != 0:
                continue
            info["device_type"] = "hardware_uart"
        else:
            location = usb_location(device.resolve())
            if location is not None:
                info["device_type"] = "usb"
                info["usb_location"] = location
        devices.append(info)
    return devices


def find_usb(sys_root: Path) -> list[dict[str, object]]:
    folder = sys_root / "bus" / "usb" / "devices"
    if not folder.is_dir():
        return []
    devices: list[dict[str, object]] = []
    for dev in sorted(folder.iterdir()):
        if not (dev / "bDeviceClass").is_file():
            continue
        try:
            info: dict[str, object] = {
                "device_num": int(_read(dev / "devnum") or ""),
                "bus_num": int(_read(dev / "busnum") or ""),
                "vendor_id": (_read(dev / "idVendor") or "").lower(),
                "product_id": (_read(dev / "idProduct") or "").lower(),
            }
        except ValueError:
            continue
        info["usb_location"] = f"{info['bus_num']}:{info['device_num']}"
        for name in _USB_OPTIONAL:
            info[name] = _read(dev / name)
        # Moonraker names classes from usb.ids; we ship no such database
        info.update({"class": None, "subclass": None, "protocol": None, "description": None})
        devices.append(info)
    return devices


def find_video(sys_root: Path, dev_root: Path) -> list[dict[str, object]]:
    v4l = sys_root / "class" / "video4linux"
    if not v4l.is_dir():
        return []
    by_path = _links(dev_root / "v4l" / "by-path")
    by_id = _links(dev_root / "v4l" / "by-id")
    devices: list[dict[str, object]] = []
    for entry in v4l.iterdir():
        name = entry.name
        alt_name = _read(entry / "name")
        device = entry / "device"
        devices.append(
            {
                "device_name": name,
                "device_path": str(dev_root / name),
                # without opening the device (VIDIOC_QUERYCAP) sysfs' name is all we know
                "camera_name": alt_name or name,
                "driver_name": (device / "driver").resolve().name
                if (device / "driver").exists()
                else "",
                "hardware_bus": "",
                "capabilities": [],
                "version": "",
                "path_by_hardware": by_path.get(name),
                "path_by_id": by_id.get(name),
                "alt_name": alt_name,
                "usb_location": usb_location(device.resolve()) if device.exists() else None,
                "modes": [],
            }
        )
    devices.sort(key=lambda d: (_index(str(d["device_name"])), str(d["device_name"])))
    return devices


def _index(name: str) -> int:
    digits = name.removeprefix("video")
    return int(digits) if digits.isdigit() else -1
