"""The public face of the simulator: start/stop, the port path, stats and fault injection."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import threading
import time
from pathlib import Path

from .config import VirtualPrinterConfig
from .firmware import Firmware, FirmwareReset
from .stats import VirtualPrinterStats

LINK_NAME = "ttyVirtualMarlin"


class VirtualPrinter:
    """A simulated Marlin 2.1 board behind a pseudo-terminal.

    The firmware runs on its own thread, independent of any event loop of the host.  The
    host opens :attr:`port` (a symlink that stays valid across :meth:`disconnect` /
    :meth:`reconnect`) with pyserial like any serial port.
    """

    def __init__(self, config: VirtualPrinterConfig | None = None) -> None:
        self.config = config or VirtualPrinterConfig()
        self._tmp: Path | None = None
        self._sd_root: Path | None = None
        self._fw: Firmware | None = None
        self._thread: threading.Thread | None = None
        self._port: Path | None = None
        self._error: BaseException | None = None
        # start() runs on a worker thread (asyncio.to_thread) that cannot be cancelled: a
        # stop() arriving meanwhile must wait for it rather than see half a printer
        self._lifecycle = threading.Lock()

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> str:
        with self._lifecycle:
            return self._start()

    def _start(self) -> str:
        if self._fw is not None:
            raise RuntimeError("virtual printer already started")
        self._tmp = Path(tempfile.mkdtemp(prefix="skysail-vp-"))
        if self.config.sd_dir is not None:
            self._sd_root = Path(self.config.sd_dir)
            self._sd_root.mkdir(parents=True, exist_ok=True)
        else:
            self._sd_root = self._tmp / "sd"
            self._sd_root.mkdir()
        self._port = self._tmp / LINK_NAME
        fw = Firmware(self.config, self._port, self._sd_root)
        fw.wire.open(self._port)
        self._fw = fw
        self._thread = threading.Thread(target=self._run, name="virtual-marlin", daemon=True)
        self._thread.start()
        fw.booted.wait(5)
        return str(self._port)

    def _run(self) -> None:
        assert self._fw is not None
        try:
            self._fw.run()
        except BaseException as exc:  # surfaced by stop()
            self._error = exc

    def stop(self) -> None:
        with self._lifecycle:
            self._stop()

    def _stop(self) -> None:
        fw, thread = self._fw, self._thread
        if fw is None:
            return
        fw.request_stop()
        if thread is not None:
            thread.join(timeout=5)
        fw.wire.close(self._port)
        fw.close()
        self._fw = None
        self._thread = None
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None
        if self._error is not None:
            err, self._error = self._error, None
            raise RuntimeError("virtual printer thread failed") from err

    def __enter__(self) -> VirtualPrinter:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ observation
    @property
    def port(self) -> str:
        if self._port is None:
            raise RuntimeError("virtual printer not started")
        return str(self._port)

    @property
    def sd_dir(self) -> Path:
        """The directory that backs the simulated SD card."""
        if self._sd_root is None:
            raise RuntimeError("virtual printer not started")
        return self._sd_root

    @property
    def executed(self) -> list[str]:
        return self._firmware.executed

    @property
    def stats(self) -> VirtualPrinterStats:
        return self._firmware.stats_snapshot()

    def reset_stats(self) -> None:
        self._firmware.reset_stats()

    @property
    def _firmware(self) -> Firmware:
        if self._fw is None:
            raise RuntimeError("virtual printer not started")
        return self._fw

    @property
    def firmware(self) -> Firmware:
        """The simulated firmware, for reading its state (modes, position, heaters) once
        the commands of interest were acknowledged."""
        return self._firmware

    # ------------------------------------------------------------------ fault injection
    def set_corruption_rate(self, rate: float, seed: int | None = None) -> None:
        fw = self._firmware

        def apply() -> None:
            fw.corruption_rate = max(0.0, min(1.0, rate))
            if seed is not None:
                fw.rng.seed(seed)

        fw.post(apply)

    def drop_next_ok(self) -> None:
        fw = self._firmware
        with fw.lock:
            fw.drop_oks += 1

    def firmware_reset(self) -> None:
        def reset() -> None:
            raise FirmwareReset

        self._firmware.post(reset)

    def thermal_runaway(self, heater: str = "E0") -> None:
        fw = self._firmware
        h = heater.strip().upper()
        ident = "bed" if h in ("B", "BED") else str(int(h.lstrip("ET") or "0"))

        def runaway() -> None:
            if not fw.halted:
                fw.kill(f"Error:Thermal Runaway, system stopped! Heater_ID: {ident}")

        fw.post(runaway)

    def request_action(self, action: str) -> None:
        fw = self._firmware
        fw.post(lambda: fw.emit("//action:" + action))

    def disconnect(self) -> None:
        fw = self._firmware
        port = self._port
        fw.post(lambda: fw.wire.close(port))

    def reconnect(self) -> None:
        fw = self._firmware
        port = self._port
        assert port is not None

        def replug() -> None:
            if fw.wire.fd is None:
                fw.wire.open(port)

        fw.post(replug)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Test helper: wait until the command queue is empty and every move has finished."""
        fw = self._firmware
        state: list[bool] = [False]

        def probe() -> None:
            fw.planner.update(time.monotonic())
            state[0] = not fw.queue and fw.planner.idle()

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(TimeoutError):
                fw.post(probe)
            if state[0]:
                return True
            time.sleep(0.01)
        return False
