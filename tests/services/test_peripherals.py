"""machine.peripherals.*: devices from a fake sysfs/dev tree, and the real host's answer
shapes over HTTP and the websocket."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from components.machine.component import Machine
from components.machine.peripherals import find_serial, find_usb, find_video, usb_location
from tests.harness import RpcError, RunningServer


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n")


def _link(link: Path, target: Path) -> None:
    link.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target, link)


@pytest.fixture
def tree(tmp_path: Path) -> tuple[Path, Path]:
    """A USB-serial adapter, a legacy UART placeholder, a real UART, a USB camera."""
    sys, dev = tmp_path / "sys", tmp_path / "dev"
    usb = sys / "devices" / "pci0000:00" / "usb1" / "1-1"
    for name, value in {
        "devnum": "4", "busnum": "1", "idVendor": "0403", "idProduct": "6001",
        "bDeviceClass": "00", "bDeviceSubClass": "00", "bDeviceProtocol": "00",
        "manufacturer": "FTDI", "product": "FT232R USB UART", "serial": "A10K1",
    }.items():
        _write(usb / name, value)
    _link(sys / "bus" / "usb" / "devices" / "1-1", usb)
    drivers = sys / "bus" / "drivers"
    (drivers / "ftdi_sio").mkdir(parents=True)
    (drivers / "serial8250").mkdir(parents=True)
    (drivers / "uvcvideo").mkdir(parents=True)
    # ttyUSB0 under the USB interface
    iface = usb / "1-1:1.0" / "ttyUSB0"
    iface.mkdir(parents=True)
    _link(iface / "driver", drivers / "ftdi_sio")
    _link(sys / "class" / "tty" / "ttyUSB0" / "device", iface)
    # ttyS1: an 8250 placeholder (port not 0): skipped; ttyAMA0: a real UART
    for name, driver, port in (("ttyS1", "serial8250", "0x2F8"), ("ttyAMA0", "uart-pl011", "0")):
        platform = sys / "devices" / "platform" / name
        platform.mkdir(parents=True)
        if driver == "serial8250":
            _link(platform / "driver", drivers / "serial8250")
        _link(sys / "class" / "tty" / name / "device", platform)
        _write(sys / "class" / "tty" / name / "uartclk", "1843200")
        _write(sys / "class" / "tty" / name / "port", port)
    # tty0: no device, skipped
    (sys / "class" / "tty" / "tty0").mkdir(parents=True)
    _link(dev / "serial" / "by-id" / "usb-FTDI_FT232R_A10K1-if00-port0", dev / "ttyUSB0")
    _link(dev / "serial" / "by-path" / "pci-0000:00:14.0-usb-0:1:1.0-port0", dev / "ttyUSB0")
    # a camera on the same USB device
    cam_iface = usb / "1-1:1.2" / "video4linux" / "video0"
    cam_iface.mkdir(parents=True)
    _link(usb / "1-1:1.2" / "driver", drivers / "uvcvideo")
    _write(sys / "class" / "video4linux" / "video0" / "name", "HD Webcam")
    _link(sys / "class" / "video4linux" / "video0" / "device", usb / "1-1:1.2")
    _write(sys / "class" / "video4linux" / "video10" / "name", "bcm2835-codec")
    _link(dev / "v4l" / "by-id" / "usb-Webcam-video-index0", dev / "video0")
    return sys, dev


def test_serial_devices(tree: tuple[Path, Path]) -> None:
    sys, dev = tree
    devices = find_serial(sys, dev)
    assert devices == [
        {
            "device_type": "hardware_uart",
            "device_path": str(dev / "ttyAMA0"),
            "device_name": "ttyAMA0",
            "driver_name": "",
            "path_by_hardware": None,
            "path_by_id": None,
            "usb_location": None,
        },
        {
            "device_type": "usb",
            "device_path": str(dev / "ttyUSB0"),
            "device_name": "ttyUSB0",
            "driver_name": "ftdi_sio",
            "path_by_hardware": str(
                dev / "serial" / "by-path" / "pci-0000:00:14.0-usb-0:1:1.0-port0"),
            "path_by_id": str(dev / "serial" / "by-id" / "usb-FTDI_FT232R_A10K1-if00-port0"),
            "usb_location": "1:4",
        },
    ]


def test_usb_devices(tree: tuple[Path, Path]) -> None:
    sys, _ = tree
    assert find_usb(sys) == [
        {
            "device_num": 4, "bus_num": 1, "vendor_id": "0403", "product_id": "6001",
            "usb_location": "1:4", "manufacturer": "FTDI", "product": "FT232R USB UART",
            "serial": "A10K1", "class": None, "subclass": None, "protocol": None,
            "description": None,
        }
    ]


def test_video_devices(tree: tuple[Path, Path]) -> None:
    sys, dev = tree
    devices = find_video(sys, dev)
    assert [d["device_name"] for d in devices] == ["video0", "video10"]
    cam = devices[0]
    assert cam["camera_name"] == "HD Webcam" and cam["alt_name"] == "HD Webcam"
    assert cam["usb_location"] == "1:4" and cam["driver_name"] == "uvcvideo"
    assert cam["path_by_id"] == str(dev / "v4l" / "by-id" / "usb-Webcam-video-index0")
    assert cam["device_path"] == str(dev / "video0") and cam["modes"] == []
    assert devices[1]["usb_location"] is None


def test_usb_location_of_a_non_usb_path(tmp_path: Path) -> None:
    assert usb_location(tmp_path) is None


async def test_endpoints_on_this_host(srv: RunningServer, tree: tuple[Path, Path]) -> None:
    ws = await srv.websocket()
    serial = (await srv.http.get("/machine/peripherals/serial")).json()["result"]
    assert isinstance(serial["serial_devices"], list)
    usb = await ws.call("machine.peripherals.usb")
    assert isinstance(usb["usb_devices"], list)
    video = await ws.call("machine.peripherals.video")
    assert set(video) == {"v4l2_devices", "libcamera_devices"}
    with pytest.raises(RpcError) as err:
        await ws.call("machine.peripherals.canbus", {"interface": "can-nope"})
    assert (err.value.code, err.value.message) == (
        400, "Unable to bind socket to interface 'can-nope'")
    with pytest.raises(RpcError) as err:
        await ws.call("machine.peripherals.canbus", {"interface": "../../etc"})
    assert err.value.code == -32602
    # pointed at the fake tree
    machine = srv.server.components["machine"]
    assert isinstance(machine, Machine)
    machine.peripherals.sys, machine.peripherals.dev = tree
    serial = (await srv.http.get("/machine/peripherals/serial")).json()["result"]
    assert [d["device_name"] for d in serial["serial_devices"]] == ["ttyAMA0", "ttyUSB0"]
    (tree[0] / "class" / "net" / "can0").mkdir(parents=True)
    assert await ws.call("machine.peripherals.canbus") == {"can_uuids": []}
