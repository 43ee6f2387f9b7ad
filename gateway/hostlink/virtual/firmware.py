"""The simulated Marlin main loop: line intake, command queue, ``ok``s, waits and faults.

The structure mirrors Marlin's: ``loop()`` reads serial bytes into the command queue while
a slot is free, then processes exactly one command; any command that has to wait calls
:meth:`Firmware.wait_until`, which (like ``idle()``) keeps the wire, the heaters, the
planner, auto-reports and ``busy:`` keepalives going but does not read new commands.
All of it runs on the one firmware thread; other threads talk to it through
:meth:`Firmware.post`.
"""

from __future__ import annotations

import contextlib
import os
import random
import select
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import handlers, intake
from .cmd_tuning import Tuning
from .config import VirtualPrinterConfig
from .execution import Pacer, Recorder, is_move
from .parser import Gcode, command_text, parse_gcode, strtol
from .planner import Planner
from .sdcard import SdCard
from .stats import VirtualPrinterStats
from .thermal import Thermal
from .wire import SLACK, Wire

ERR_KILLED = "Printer halted. kill() called!"
BUSY_PROCESSING = "processing"
BUSY_PAUSED_FOR_USER = "paused for user"

_HOST_CHECK_INTERVAL = 0.02


class FirmwareReset(Exception):
    """Unwinds to the main loop, which boots again."""


class Killed(Exception):
    """Unwinds to the main loop, which then only listens for M999."""


class StopRequested(Exception):
    """The simulator is shutting down."""


@dataclass
class Command:
    line: str  # as received, N word and checksum included
    skip_ok: bool = False
    from_sd: bool = False
    ep_done: bool = False  # the emergency parser already acted on it


@dataclass
class _Request:
    fn: Callable[[], None]
    done: threading.Event


class Firmware:
    def __init__(self, cfg: VirtualPrinterConfig, link: Path, sd_root: Path) -> None:
        self.cfg = cfg
        self.link = link
        self.stats = VirtualPrinterStats()
        self.lock = threading.Lock()
        self.recorder = Recorder(self.lock, self.stats, cfg.record_path)
        self.pacer = Pacer(cfg.command_delay)
        self.wire = Wire(
            baud=cfg.baud,
            rx_buffer_size=cfg.rx_buffer_size,
            max_cmd_size=cfg.max_cmd_size,
            host_buffer_size=cfg.host_buffer_size,
            stats=self.stats,
            on_ep_line=self._emergency_line if cfg.emergency_parser else None,
            on_report=self.emit,
            meatpack=cfg.meatpack,
        )
        self.sd = SdCard(sd_root)
        self.scale = cfg.time_scale
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._requests: deque[_Request] = deque()
        self._stop = False
        self.booted = threading.Event()
        self.rng = random.Random()
        self.corruption_rate = 0.0
        self.drop_oks = 0
        self._next_host_check = 0.0
        self.boot_until = 0.0
        # a DTR reset on open: the bootloader runs until then (reset_on_open)
        self._bootloader_until: float | None = None
        self.thermal = Thermal.from_config(cfg, time.monotonic())
        self.table = handlers.build_table(cfg)
        self._init_state()

    # ================================================================== state
    def _init_state(self) -> None:
        c = self.cfg
        self.queue: deque[Command] = deque()
        self.last_n = 0
        self.halted = False
        self.planner = Planner(
            block_buffer_size=c.block_buffer_size,
            time_scale=c.time_scale,
            first_move_delay=c.first_move_delay,
            junction_deviation=c.junction_deviation,
            starvation_threshold=c.starvation_threshold,
            stats=self.stats,
        )
        self.thermal.all_off()
        # PSU_CONTROL without PSU_DEFAULT_OFF: the supply is on after a reset
        self.psu_on = True
        self.pos = [0.0, 0.0, 0.0, 0.0]
        self.relative = False
        self.e_relative = False
        self.feedrate = c.default_feedrate  # mm/s
        self.feedrate_pct = 100
        self.flow_pct = [100] * max(1, c.extruder_count)
        self.active_extruder = 0
        self.homed: set[int] = set()
        self.fans: dict[int, int] = {}
        self.allow_cold_extrusion = False
        self.max_feedrate = list(c.max_feedrate)
        self.max_accel = list(c.max_acceleration)
        self.accel = c.acceleration
        self.retract_accel = c.retract_acceleration
        self.travel_accel = c.travel_acceleration
        self.progress: int | None = None
        # timers (wall times); intervals are simulated seconds
        self.temp_interval = 0.0
        self.pos_interval = 0.0
        self.sd_interval = 0.0
        self.keepalive_interval = c.keepalive_interval
        self.next_temp = self.next_pos = self.next_sd = 0.0
        self.busy: str | None = None
        self._next_busy = 0.0
        self.wait_for_heatup = False
        self.wait_for_user = False
        self.prompt_reason: str | None = None
        self.tuning = Tuning()
        self.ep_kill = self.ep_quickstop = self.ep_sd_abort = False
        self.sd.close()
        self.sd.saving = None

    # ================================================================== public-ish helpers
    @property
    def executed(self) -> list[str]:
        return self.recorder.executed

    def record(self, text: str) -> None:
        self.recorder.record(text)

    def reset_stats(self) -> None:
        with self.lock:
            fresh = VirtualPrinterStats()
            for name in fresh.__dataclass_fields__:
                setattr(self.stats, name, getattr(fresh, name))

    def stats_snapshot(self) -> VirtualPrinterStats:
        with self.lock:
            return self.stats.copy()

    def post(self, fn: Callable[[], None], wait: bool = True, timeout: float = 5.0) -> None:
        """Run ``fn`` on the firmware thread (it may raise to unwind the firmware)."""
        req = _Request(fn, threading.Event())
        with self.lock:
            self._requests.append(req)
        self._wake()
        if wait and not req.done.wait(timeout):
            raise TimeoutError("virtual printer did not respond")

    def request_stop(self) -> None:
        self._stop = True
        self._wake()

    def _wake(self) -> None:
        with contextlib.suppress(BlockingIOError, OSError):
            os.write(self._wake_w, b"x")

    def close(self) -> None:
        self.recorder.close()
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)

    def now(self) -> float:
        return time.monotonic()

    def emit(self, line: str) -> None:
        self.wire.send(line, time.monotonic())

    def echo(self, text: str) -> None:
        self.emit("echo:" + text)

    # ================================================================== the loop
    def run(self) -> None:
        self.boot(power_up=True)  # nobody has the port open yet: the banner is lost
        self.wire.flush_tx(time.monotonic())
        self.booted.set()
        while True:
            try:
                if self.halted:
                    self._halted_loop()
                else:
                    self._loop()
            except StopRequested:
                return
            except FirmwareReset:
                self.boot(power_up=False)
            except Killed:
                self.halted = True

    def boot(self, *, power_up: bool) -> None:
        self._init_state()
        now = time.monotonic()
        self.wire.drain_rx()
        if self.wire.meatpack is not None:
            self.wire.meatpack.reset()  # a booting firmware reads plain text
        if self.cfg.boot_time > 0:
            self.boot_until = now + self.cfg.boot_time
            self.wire.discard_input_until(self.boot_until)
        self.emit("start")
        self.echo("PowerUp" if power_up else " External Reset")
        self.echo(f" Marlin {self.cfg.firmware_version}")
        self.echo(" Last Updated: 2024-01-01 | Author: (Skysail, virtual printer)")
        self.echo(" Compiled: Jan  1 2024")
        self.echo(" Free Memory: 2734  PlannerBufferBytes: 1232")
        self.echo("V86 stored settings retrieved (642 bytes; crc 36738)")
        if self.cfg.sdcard:
            self.echo("SD card ok")

    def _loop(self) -> None:
        while True:
            self.service()
            intake.read_commands(self)
            if self.queue:
                cmd = self.queue[0]
                self._process(cmd)
                if self.queue and self.queue[0] is cmd:
                    self.queue.popleft()
                self._tx_wait()
            elif self.sd.printing and self.sd.eof():
                self._sd_finished()
            else:
                self.pacer.starved = True  # nothing to do: the command clock restarts
                self.sleep(None, want_lines=True)

    def _halted_loop(self) -> None:
        """kill() state: silent, except that M999 brings the firmware back."""
        while True:
            self.service()
            line = self.wire.take_line()
            while line is not None:
                gc = parse_gcode(line)
                if gc.letter == "M" and gc.code == 999:
                    self.halted = False
                    s = line.lstrip(" ")
                    if s.startswith("N"):
                        self.last_n = strtol(s[1:])
                    self.record(gc.text)
                    handlers.run(self, gc)
                    self.ok(Command(line))
                    return
                line = self.wire.take_line()
            self.sleep(None, want_lines=True)

    # ================================================================== service / idle
    def service(self) -> None:
        """Everything Marlin does in interrupts and ``idle()``; never reads commands."""
        if self._stop:
            raise StopRequested
        if self._requests:
            self._run_requests()
        now = time.monotonic()
        wire = self.wire
        if wire.fd is not None and not wire.connected and now >= self._next_host_check:
            self._next_host_check = now + _HOST_CHECK_INTERVAL
            wire.check_host()
        if wire.just_opened:
            wire.just_opened = False
            if self.cfg.reset_on_open:
                self._bootloader_until = now + self.cfg.bootloader_time
                self.boot_until = self._bootloader_until  # no command is read meanwhile
        if self._bootloader_until is not None and now >= self._bootloader_until:
            self._bootloader_until = None
            wire.discard_input_until(now)  # what came during the bootloader is lost
            raise FirmwareReset
        if wire.want_read:
            wire.read_master(now)
        wire.deliver(now)
        if self.ep_kill:
            self.ep_kill = False
            self.kill()
        if self.ep_quickstop:
            self.ep_quickstop = False
            self.quick_stop()
        if self.ep_sd_abort:
            self.ep_sd_abort = False
            handlers.sd_abort(self)
        self.thermal.update(now)
        self.planner.update(now)
        self._timers(now)
        wire.flush_tx(now)

    def _timers(self, now: float) -> None:
        s = self.scale
        if self.busy is None:
            self._next_busy = now + self.keepalive_interval / s
        elif self.keepalive_interval > 0 and now >= self._next_busy:
            self.echo("busy: " + self.busy)
            self._next_busy = now + self.keepalive_interval / s
        if self.temp_interval > 0 and now >= self.next_temp:
            self.next_temp = now + self.temp_interval / s
            self.emit(self.thermal.report(self.active_extruder))
        if self.pos_interval > 0 and now >= self.next_pos:
            self.next_pos = now + self.pos_interval / s
            self.emit(handlers.position_report(self))
        if self.sd_interval > 0 and now >= self.next_sd:
            self.next_sd = now + self.sd_interval / s
            handlers.sd_report(self)

    def _run_requests(self) -> None:
        while True:
            with self.lock:
                if not self._requests:
                    return
                req = self._requests.popleft()
            try:
                req.fn()
            finally:
                req.done.set()

    def sleep(self, deadline: float | None, *, want_lines: bool = False) -> None:
        """Block until ``deadline``, I/O, a timer or a request; then return (no servicing)."""
        now = time.monotonic()
        wire = self.wire
        cands: list[float] = []
        if deadline is not None:
            cands.append(deadline)
        w = wire.next_wake(now, want_lines and len(self.queue) < self.cfg.bufsize)
        if w is not None:
            cands.append(w)
        s = self.scale
        if self.busy is not None and self.keepalive_interval > 0:
            cands.append(self._next_busy)
        if self.temp_interval > 0:
            cands.append(self.next_temp)
        if self.pos_interval > 0:
            cands.append(self.next_pos)
        if self.sd_interval > 0:
            cands.append(self.next_sd)
        if wire.fd is not None and not wire.connected:
            cands.append(self._next_host_check)
        if self._bootloader_until is not None:
            cands.append(self._bootloader_until)
        if self.wait_for_heatup:
            cands.append(now + 0.25 / s)
        timeout = None if not cands else max(0.0, min(cands) - now - SLACK / 2)
        rlist = [self._wake_r]
        wlist: list[int] = []
        if wire.fd is not None and wire.connected:
            if wire.want_read:
                rlist.append(wire.fd)
            if wire.want_write:
                wlist.append(wire.fd)
        if timeout == 0.0:
            return
        r, _, _ = select.select(rlist, wlist, [], timeout)
        if self._wake_r in r:
            with contextlib.suppress(BlockingIOError):
                os.read(self._wake_r, 4096)

    def wait_until(
        self, cond: Callable[[], bool], wake: Callable[[], float | None] | None = None
    ) -> None:
        """Marlin's ``while (!cond) idle();``."""
        while True:
            self.service()
            if cond():
                return
            self.sleep(wake() if wake is not None else None)

    def wait_time(self, seconds: float) -> None:
        """Wait ``seconds`` of wall time while staying responsive."""
        deadline = time.monotonic() + seconds
        self.wait_until(lambda: time.monotonic() + SLACK >= deadline, lambda: deadline)

    def synchronize(self) -> None:
        """``planner.synchronize()``: wait until every move has finished."""
        p = self.planner
        self.wait_until(p.idle, p.next_event)

    def _tx_wait(self) -> None:
        """With a small TX buffer Marlin stalls until its output has left the wire."""
        limit = self.cfg.tx_buffer_size * self.wire.byte_time + SLACK
        if self.wire.tx_backlog(time.monotonic()) <= limit:
            return
        self.wait_until(
            lambda: self.wire.tx_backlog(time.monotonic()) <= limit,
            lambda: time.monotonic() + self.wire.tx_backlog(time.monotonic()) - limit + SLACK,
        )

    # ================================================================== processing
    def _process(self, cmd: Command) -> None:
        if cmd.ep_done:
            self.ok(cmd)  # M108/M112/M410/M524/M876 are no-ops once the parser took them
            return
        if self.sd.saving is not None and not cmd.from_sd:
            handlers.sd_write_line(self, cmd)
            return
        if self.cfg.lean and is_move(cmd.line):
            self.record(command_text(cmd.line))
            if self.cfg.command_delay > 0:
                self.pacer.pace(self)
            self.ok(cmd)
            return
        gc = parse_gcode(cmd.line)
        known = handlers.known(self, gc)
        if known:
            self.record(gc.text)
        self.busy = BUSY_PROCESSING
        try:
            if self.cfg.command_delay > 0:
                self.pacer.pace(self)
            no_ok = handlers.run(self, gc)
        except FirmwareReset:
            if known:
                self.recorder.cut_short(gc.text)
            raise
        finally:
            self.busy = None
        if not no_ok:
            self.ok(cmd)

    def ok(self, cmd: Command) -> None:
        if cmd.skip_ok:
            return
        text = "ok"
        if self.cfg.advanced_ok:
            s = cmd.line.lstrip(" ")
            if s.startswith("N"):
                j = 1
                while j < len(s) and (s[j].isdigit() or s[j] == "-"):
                    j += 1
                text += " " + s[:j]
            self.planner.update(time.monotonic())
            text += f" P{self.planner.moves_free()} B{self.cfg.bufsize - len(self.queue)}"
        self.send_ok_line(text)

    def send_ok_line(self, text: str) -> None:
        if self.drop_oks > 0:
            with self.lock:
                self.drop_oks -= 1
            return
        self.emit(text)

    # ================================================================== emergencies
    def _emergency_line(self, raw: bytes) -> None:
        intake.emergency_line(self, raw)

    def quick_stop(self) -> None:
        pos = self.planner.quick_stop(time.monotonic())
        if pos is not None:
            self.pos = list(pos)

    def kill(self, *pre: str) -> None:
        for line in pre:
            self.emit(line)
        self.emit("Error:" + ERR_KILLED)
        self.thermal.all_off()
        self.planner.clear()
        self.queue.clear()
        self.sd.printing = False
        self.busy = None
        self.wait_for_heatup = self.wait_for_user = False
        self.halted = True
        raise Killed

    # ================================================================== SD end of file
    def _sd_finished(self) -> None:
        self.synchronize()
        self.sd.close()
        self.emit("Done printing file")
        self.planner.excuse()

    # ================================================================== misc
    def dispatch_gcode(self, gc: Gcode) -> bool:
        return handlers.run(self, gc)
