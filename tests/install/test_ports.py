"""gateway/hostlink/ports.py: serial port discovery on a fake /dev + /sys tree and here."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.__main__ import main
from gateway.hostlink import ports
from gateway.hostlink.ports import PortInfo, format_ports, list_ports

PCI = "devices/pci0000:00/0000:00:14.0/usb1"
PRUSA_ID = "usb-Prusa_Research__prusa3d.com__Original_Prusa_i3_MK3_CZPX1234X004XK12345-if00"
CH340_ID = "usb-1a86_USB_Serial-if00-port0"
BY_PATH = "platform-fd500000.pcie-usb-0:1.1:1.0-port0"


def _link(link: Path, target: str | Path) -> None:
    """A symlink; an absolute target inside the tree becomes relative, as the kernel's."""
    link.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(target, Path):
        target = os.path.relpath(target, link.parent)
    link.symlink_to(target)


def _files(folder: Path, **values: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, value in values.items():
        (folder / name).write_text(value + "\n")


@pytest.fixture
def tree(tmp_path: Path) -> tuple[Path, Path]:
    """A Raspberry Pi-like machine: a Prusa on native USB (ttyACM0), a CH340 board
    (ttyUSB0), the Pi's PL011 UART (ttyAMA0 = serial1), the mini UART (ttyS0 =
    serial0) and an unnamed legacy ttyS1, laid out as the kernel does."""
    dev, sys_root = tmp_path / "dev", tmp_path / "sys"
    for bus in ("usb", "usb-serial", "amba", "serial-base"):
        (sys_root / "bus" / bus).mkdir(parents=True)
    # CH340: usb device 1-1, interface 1-1:1.0, usb-serial port ttyUSB0
    _files(sys_root / PCI / "1-1", idVendor="1a86", idProduct="7523", product="USB Serial",
           bNumInterfaces=" 1")
    _files(sys_root / PCI / "1-1" / "1-1:1.0")
    _link(sys_root / PCI / "1-1/1-1:1.0/ttyUSB0/subsystem", sys_root / "bus/usb-serial")
    _link(sys_root / "class/tty/ttyUSB0/device", sys_root / PCI / "1-1/1-1:1.0/ttyUSB0")
    # Prusa MK3: CDC-ACM, the tty's device is the usb interface itself
    _files(sys_root / PCI / "1-2", idVendor="2c99", idProduct="0002",
           manufacturer="Prusa Research (prusa3d.com)", product="Original Prusa i3 MK3",
           serial="CZPX1234X004XK12345")
    _files(sys_root / PCI / "1-2" / "1-2:1.0", interface="CDC Abstract Control Model")
    _link(sys_root / PCI / "1-2/1-2:1.0/subsystem", sys_root / "bus/usb")
    _link(sys_root / "class/tty/ttyACM0/device", sys_root / PCI / "1-2/1-2:1.0")
    # Pi UARTs
    pl011 = sys_root / "devices/platform/soc/fe201000.serial"
    _link(pl011 / "subsystem", sys_root / "bus/amba")
    _link(sys_root / "class/tty/ttyAMA0/device", pl011)
    base = "devices/platform/serial8250/serial8250:0/serial8250:0.0"
    _link(sys_root / base / "subsystem", sys_root / "bus/serial-base")
    for name in ("ttyS0", "ttyS1"):
        _link(sys_root / "class/tty" / name / "device", sys_root / base)
    for name in ("ttyUSB0", "ttyACM0", "ttyAMA0", "ttyS0", "ttyS1", "tty", "null"):
        (dev / name).parent.mkdir(parents=True, exist_ok=True)
        (dev / name).touch()
    _link(dev / "serial/by-id" / PRUSA_ID, "../../ttyACM0")
    _link(dev / "serial/by-id" / CH340_ID, "../../ttyUSB0")
    _link(dev / "serial/by-id/usb-unplugged-if00", "../../ttyACM7")  # dangling: ignored
    _link(dev / "serial/by-path" / BY_PATH, "../../ttyUSB0")
    _link(dev / "serial0", "ttyS0")
    _link(dev / "serial1", "ttyAMA0")
    return dev, sys_root


def test_fake_tree(tree: tuple[Path, Path]) -> None:
    dev, sys_root = tree
    found = list_ports(dev, sys_root, access=None)
    assert [Path(p.device).name for p in found] == ["ttyACM0", "ttyUSB0", "ttyAMA0", "ttyS0"]
    prusa, ch340, pl011, mini = found
    assert prusa == PortInfo(
        device=str(dev / "ttyACM0"),
        by_id=(str(dev / "serial/by-id" / PRUSA_ID),),
        subsystem="usb",
        vid=0x2C99,
        pid=0x0002,
        manufacturer="Prusa Research (prusa3d.com)",
        product="Original Prusa i3 MK3",
        serial_number="CZPX1234X004XK12345",
        interface="CDC Abstract Control Model",
    )
    assert prusa.usb_id == "2c99:0002"
    assert prusa.config_name == str(dev / "serial/by-id" / PRUSA_ID)
    assert ch340.subsystem == "usb-serial" and ch340.usb_id == "1a86:7523"
    assert ch340.product == "USB Serial" and ch340.manufacturer is None
    assert ch340.by_id == (str(dev / "serial/by-id" / CH340_ID),)
    assert ch340.aliases == (str(dev / "serial/by-path" / BY_PATH),)
    assert pl011.subsystem == "amba" and pl011.aliases == (str(dev / "serial1"),)
    assert pl011.usb_id is None and pl011.config_name == str(dev / "serial1")
    assert mini.aliases == (str(dev / "serial0"),) and mini.subsystem == "serial-base"
    assert ch340.config_name == ch340.by_id[0]  # by-id beats by-path


def test_by_id_link_to_an_unknown_tty_name_is_listed(tmp_path: Path) -> None:
    dev = tmp_path / "dev"
    dev.mkdir()
    (dev / "ttyCH9344USB0").touch()  # a vendor driver's name we don't know
    _link(dev / "serial/by-id/usb-wch.cn_CH9344-if00", "../../ttyCH9344USB0")
    found = list_ports(dev, tmp_path / "sys", access=None)
    assert [p.device for p in found] == [str(dev / "ttyCH9344USB0")]
    assert found[0].by_id == (str(dev / "serial/by-id/usb-wch.cn_CH9344-if00"),)


def test_nothing_found(tmp_path: Path) -> None:
    assert list_ports(tmp_path / "nodev", tmp_path / "nosys") == []
    assert "No serial ports found" in format_ports([])


def test_access_and_pyserial_merge(
    tree: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    dev, sys_root = tree
    # pyserial's answer fills what sysfs lacks (here: a manufacturer for the CH340)
    resolved = os.path.realpath(dev / "ttyUSB0")
    monkeypatch.setattr(ports, "_pyserial_ports", lambda: {resolved: {"manufacturer": "QinHeng"}})
    found = list_ports(dev, sys_root, use_pyserial=True, access=lambda d: not d.endswith("USB0"))
    by_name = {Path(p.device).name: p for p in found}
    assert by_name["ttyUSB0"].manufacturer == "QinHeng"
    assert by_name["ttyUSB0"].accessible is False and by_name["ttyACM0"].accessible is True
    text = format_ports(found)
    assert "no permission" in text and "dialout" in text
    assert f"by-id:   {dev}/serial/by-id/{PRUSA_ID}" in text
    assert (
        "USB:     2c99:0002  Prusa Research (prusa3d.com) Original Prusa i3 MK3, "
        "serial CZPX1234X004XK12345"
    ) in text
    # the suggested config line uses the first port's by-id name
    assert text.rstrip().endswith(f"port: {dev}/serial/by-id/{PRUSA_ID}")


def test_this_machine() -> None:
    """The real /dev and /sys (there may be no serial port at all)."""
    found = list_ports()
    for port in found:
        assert Path(port.device).exists()
        assert all(Path(link).exists() for link in port.by_id)
        assert port.accessible is not None
    assert isinstance(ports._pyserial_ports(), dict)
    assert format_ports(found)


def test_cli_list_ports(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--list-ports"]) == 0
    out = capsys.readouterr().out
    assert "Serial ports" in out or "No serial ports found" in out


def test_cli_list_ports_subprocess(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gateway", "--list-ports"],
        capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()
    assert not (tmp_path / "logs").exists()  # listing ports starts no server, writes no log
