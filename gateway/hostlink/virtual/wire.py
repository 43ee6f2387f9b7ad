"""The serial line: a pseudo-terminal paced at the configured baud rate in both directions.

Host -> printer: bytes read from the pty master are stamped with the time their last bit
would arrive on a real UART (10 bits per byte, back to back).  When that time has come
they are moved into an RX ring of ``rx_buffer_size`` bytes (one slot kept free, as the AVR
ring does); bytes that find the ring full are dropped, exactly like a hardware overrun.
Every arrived byte is also shown to the emergency parser, which sees the stream before
(and regardless of) the ring.

Printer -> host: each line is written to the master only when its last byte would have
left the UART, so the host sees output at wire speed as well.

A baud rate of 0 makes the wire infinitely fast (no pacing either way), like a board on
native USB, where only the firmware's own speed limits the host.

With MeatPack the RX ring holds the packed bytes; they are unpacked as the firmware
reads lines out of it, as Marlin's serial wrapper does.
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import tty
from collections import deque
from collections.abc import Callable
from pathlib import Path

from .meatpack import MeatPackDecoder
from .parser import strip_comment
from .stats import VirtualPrinterStats

SLACK = 0.0003  # how early (s) an event may be served to save wake-ups
_EOL_RE = re.compile(rb"[\r\n]")
_EP_LINE_MAX = 40
_PACKED_WAKE_BYTES = 8


def _first_eol(buf: bytes | bytearray) -> int:
    i_n = buf.find(b"\n")
    i_r = buf.find(b"\r")
    if i_n < 0:
        return i_r
    if i_r < 0:
        return i_n
    return min(i_n, i_r)


class Wire:
    """Pty endpoint plus UART model.  Used only from the firmware thread."""

    def __init__(
        self,
        *,
        baud: int,
        rx_buffer_size: int,
        max_cmd_size: int,
        host_buffer_size: int,
        stats: VirtualPrinterStats,
        on_ep_line: Callable[[bytes], None] | None,
        on_report: Callable[[str], None] = lambda _line: None,
        meatpack: bool = False,
    ) -> None:
        self.byte_time = 10.0 / baud if baud > 0 else 0.0
        self.usb_frame = 0.0005  # without a baud rate: output gathers this long
        self.on_report = on_report
        self.meatpack = MeatPackDecoder() if meatpack else None
        self._decoded = bytearray()
        self.stats = stats
        self.on_ep_line = on_ep_line
        self.fd: int | None = None
        self.connected = False
        self.just_opened = False  # a host opened the port; the firmware consumes this
        self.ring = bytearray()
        self.ring_cap = max(1, rx_buffer_size - 1)
        self._line_limit = max_cmd_size - 1
        self._linebuf = bytearray()
        self._host_cap = host_buffer_size
        self._in: deque[list[object]] = deque()  # [start_time, bytearray]
        self._in_len = 0
        self._ep_line = bytearray()
        self._tx: deque[tuple[float, bytes]] = deque()
        self._tx_pending = bytearray()
        self._tx_busy_until = 0.0
        self._discard_until = 0.0

    # ------------------------------------------------------------------ pty lifecycle
    def open(self, link: Path) -> str:
        """Create a new pty and point ``link`` at its slave.  Returns the slave's name."""
        master, slave = os.openpty()
        name = os.ttyname(slave)
        tty.setraw(slave)  # raw persists for later opens of the same pty
        os.close(slave)
        os.set_blocking(master, False)
        tmp = link.with_name(link.name + ".new")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        os.symlink(name, tmp)
        os.replace(tmp, link)
        self.fd = master
        self.connected = False
        self._reset_streams()
        return name

    def close(self, link: Path | None) -> None:
        """Close the master (the host sees EIO/EOF) and remove ``link``."""
        if link is not None:
            with contextlib.suppress(FileNotFoundError):
                link.unlink()
        if self.fd is not None:
            os.close(self.fd)
        self.fd = None
        self.connected = False
        self._reset_streams()

    def _reset_streams(self) -> None:
        self._decoded.clear()
        self._in.clear()
        self._in_len = 0
        self.ring.clear()
        self._linebuf.clear()
        self._ep_line.clear()
        self._tx.clear()
        self._tx_pending.clear()

    def check_host(self) -> None:
        """Update ``connected`` from the master's hang-up state (sets ``just_opened``)."""
        if self.fd is None:
            return
        p = select.poll()
        p.register(self.fd, select.POLLIN)
        events = dict(p.poll(0))
        hup = bool(events.get(self.fd, 0) & select.POLLHUP)
        was = self.connected
        self.connected = not hup
        if was and hup:
            self._reset_streams()
        if self.connected and not was:
            self.just_opened = True
            self.stats.port_opens += 1

    def discard_input_until(self, t: float) -> None:
        """Lose every received byte until wall time ``t`` (a board booting)."""
        self._discard_until = t
        self._in.clear()
        self._in_len = 0
        self.ring.clear()
        self._linebuf.clear()
        self._decoded.clear()
        self._ep_line.clear()

    # ------------------------------------------------------------------ host -> printer
    @property
    def want_read(self) -> bool:
        return self.fd is not None and self.connected and self._in_len < self._host_cap

    @property
    def want_write(self) -> bool:
        return self.fd is not None and self.connected and bool(self._tx_pending)

    def read_master(self, now: float) -> None:
        if self.fd is None or not self.connected:
            return
        room = self._host_cap - self._in_len
        if room <= 0:
            return
        try:
            data = os.read(self.fd, room)
        except BlockingIOError:
            return
        except OSError:
            self.connected = False
            self._reset_streams()
            return
        if not data:
            return
        self.stats.bytes_in += len(data)
        if now < self._discard_until:
            return
        bt = self.byte_time
        if self._in:
            last = self._in[-1]
            start = last[0]
            buf = last[1]
            assert isinstance(start, float) and isinstance(buf, bytearray)
            if start + len(buf) * bt >= now:
                buf += data
                self._in_len += len(data)
                return
        self._in.append([now, bytearray(data)])
        self._in_len += len(data)

    def deliver(self, now: float) -> None:
        """Move every byte whose arrival time has come into the RX ring."""
        bt = self.byte_time
        while self._in:
            seg = self._in[0]
            start = seg[0]
            buf = seg[1]
            assert isinstance(start, float) and isinstance(buf, bytearray)
            n = int((now + SLACK - start) / bt) if bt else len(buf)
            if n <= 0:
                return
            if n >= len(buf):
                chunk = bytes(buf)
                self._in.popleft()
            else:
                chunk = bytes(buf[:n])
                del buf[:n]
                seg[0] = start + n * bt
            self._in_len -= len(chunk)
            self._arrive(chunk)

    def _arrive(self, chunk: bytes) -> None:
        if self.on_ep_line is not None:
            self._ep_feed(chunk)
        free = self.ring_cap - len(self.ring)
        if free >= len(chunk):
            self.ring += chunk
        else:
            if free > 0:
                self.ring += chunk[:free]
            self.stats.rx_overflows += len(chunk) - max(free, 0)

    def _ep_feed(self, chunk: bytes) -> None:
        assert self.on_ep_line is not None
        start = 0
        for m in _EOL_RE.finditer(chunk):
            if len(self._ep_line) < _EP_LINE_MAX:
                self._ep_line += chunk[start : m.start()][: _EP_LINE_MAX - len(self._ep_line)]
            if self._ep_line:
                line = bytes(self._ep_line)
                self._ep_line.clear()
                self.on_ep_line(line)
            start = m.end()
        if start < len(chunk) and len(self._ep_line) < _EP_LINE_MAX:
            self._ep_line += chunk[start:][: _EP_LINE_MAX - len(self._ep_line)]

    def take_line(self) -> str | None:
        """Read from the RX ring like Marlin's ``get_serial_commands`` does for one line.

        Bytes of an unfinished line move out of the ring into the line buffer.  Returns
        the next complete non-empty line (comment stripped, truncated to MAX_CMD_SIZE-1).
        """
        if self.meatpack is not None:
            return self._take_packed_line(self.meatpack)
        ring = self.ring
        while ring:
            idx = _first_eol(ring)
            part = ring if idx < 0 else ring[:idx]
            self._collect(part)
            if idx < 0:
                ring.clear()
                return None
            del ring[: idx + 1]
            text = self._complete()
            if text:
                return text
        return None

    def _take_packed_line(self, decoder: MeatPackDecoder) -> str | None:
        ring = self.ring
        out = self._decoded
        used = 0
        try:
            while True:
                idx = _first_eol(out)
                if idx >= 0:
                    self._collect(out[:idx])
                    del out[: idx + 1]
                    text = self._complete()
                    if text:
                        return text
                    continue
                if used >= len(ring):
                    self._collect(out)
                    out.clear()
                    return None
                decoder.feed(ring[used], out)
                used += 1
                if decoder.reports:
                    for report in decoder.reports:
                        self.on_report(report)
                    decoder.reports.clear()
        finally:
            del ring[:used]

    def _collect(self, part: bytes | bytearray) -> None:
        room = 2 * self._line_limit + 2 - len(self._linebuf)
        if room > 0:
            self._linebuf += part[:room]

    def _complete(self) -> str:
        raw = self._linebuf.decode("latin-1")
        self._linebuf.clear()
        text = strip_comment(raw, self._line_limit)
        if text:
            self.stats.lines_received += 1
        return text

    def drain_rx(self) -> None:
        """Marlin's error path: read and discard everything in the RX ring (through the
        MeatPack decoder, whose state carries on)."""
        if self.meatpack is not None:
            scratch = bytearray()
            for byte in self.ring:
                self.meatpack.feed(byte, scratch)
            for report in self.meatpack.reports:
                self.on_report(report)
            self.meatpack.reports.clear()
        self.ring.clear()
        self._linebuf.clear()
        self._decoded.clear()

    # ------------------------------------------------------------------ printer -> host
    def send(self, line: str, now: float) -> None:
        if self.fd is None:
            return
        if not self.connected:
            self.check_host()  # nobody listening: the output is lost, as on a real line
            if not self.connected:
                return
        data = line.encode("latin-1", "replace") + b"\n"
        if not self.byte_time:
            # No wire to pace: output leaves in batches, as native USB sends what
            # gathered in a frame, not a packet per line.
            if self._tx_busy_until < now:
                self._tx_busy_until = now + self.usb_frame
            self._tx.append((self._tx_busy_until, data))
            return
        start = max(now, self._tx_busy_until)
        self._tx_busy_until = start + len(data) * self.byte_time
        self._tx.append((self._tx_busy_until, data))

    def tx_backlog(self, now: float) -> float:
        """Seconds until everything queued for output has left the wire."""
        if not self.byte_time:
            return 0.0
        return max(0.0, self._tx_busy_until - now)

    def flush_tx(self, now: float) -> None:
        tx = self._tx
        while tx and tx[0][0] <= now + SLACK:
            self._tx_pending += tx.popleft()[1]
        if not self._tx_pending or self.fd is None:
            return
        try:
            n = os.write(self.fd, self._tx_pending)
        except BlockingIOError:
            return
        except OSError:
            self.connected = False
            self._reset_streams()
            return
        self.stats.bytes_out += n
        del self._tx_pending[:n]

    # ------------------------------------------------------------------ scheduling
    def next_wake(self, now: float, want_lines: bool) -> float | None:
        """The next time the wire needs the firmware's attention."""
        best: float | None = None
        if self._tx and not self._tx_pending:
            best = self._tx[0][0]
        packed = self.meatpack is not None and self.meatpack.active
        if self._in and want_lines and packed:
            # Packed lines carry no newline byte: look again every few bytes.
            seg = self._in[0]
            start = seg[0]
            buf = seg[1]
            assert isinstance(start, float) and isinstance(buf, bytearray)
            t = start + min(len(buf), _PACKED_WAKE_BYTES) * self.byte_time
            best = t if best is None else min(best, t)
        elif self._in and (want_lines or self.on_ep_line is not None):
            bt = self.byte_time
            for seg in self._in:
                start = seg[0]
                buf = seg[1]
                assert isinstance(start, float) and isinstance(buf, bytearray)
                idx = _first_eol(buf)
                if idx >= 0:
                    t = start + (idx + 1) * bt
                    best = t if best is None else min(best, t)
                    break
        if self._in_len >= self._host_cap:
            t = now + max(0.001, (self._in_len - self._host_cap // 2) * self.byte_time)
            best = t if best is None else min(best, t)
        return best
