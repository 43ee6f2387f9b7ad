"""The serial port: opening with pyserial, non-blocking fd I/O, and noticing
that the device behind the configured path went away or was replaced."""

from __future__ import annotations

import os
import stat

import serial


class SerialPort:
    """An open port. ``fd`` is non-blocking; the owner registers it with the
    event loop. Only ``read``/``write`` touch it on the hot path."""

    def __init__(self, path: str, baud: int) -> None:
        self.path = path
        # timeout=0: never block; exclusive: a second host on the port would
        # corrupt the line numbering of both.
        self._serial = serial.serial_for_url(
            path, baudrate=baud, timeout=0, write_timeout=0, exclusive=_is_device(path)
        )
        self.fd: int = self._serial.fileno()
        self._identity = _identity(path)

    @staticmethod
    def available(path: str) -> bool:
        """Whether opening ``path`` could work (URLs are always tried)."""
        return not path.startswith("/") or os.path.exists(path)

    def read(self) -> bytes:
        """Bytes waiting (empty if none). Raises OSError when the device is gone."""
        try:
            data = os.read(self.fd, 65536)
        except BlockingIOError:
            return b""
        if not data:
            raise OSError("end of file on serial port")
        return data

    def write(self, data: bytes | bytearray | memoryview) -> int:
        """Write what the device accepts now; returns the count."""
        try:
            return os.write(self.fd, data)
        except BlockingIOError:
            return 0

    def still_there(self) -> str | None:
        """None while ``path`` still names the open device, else why not."""
        if self._identity is None:
            return None
        try:
            now = _identity(self.path)
        except OSError:
            now = None
        if now is None:
            return f"serial port {self.path} disappeared"
        if now != self._identity:
            return f"serial port {self.path} now names a different device"
        return None

    def pulse_reset(self) -> None:
        """Toggle DTR, which resets boards with an auto-reset circuit (AVR)."""
        self._serial.dtr = False
        self._serial.dtr = True

    def close(self) -> None:
        try:
            self._serial.close()
        except OSError:
            pass


def _is_device(path: str) -> bool:
    return path.startswith("/")


def _identity(path: str) -> tuple[int, int] | None:
    """(device number, inode) of what ``path`` resolves to, for char devices."""
    if not _is_device(path):
        return None
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    if not stat.S_ISCHR(st.st_mode):
        return None
    return (st.st_rdev, st.st_ino)
