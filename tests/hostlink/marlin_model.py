"""A small pure model of Marlin's serial receive side and command queue.

Written from Marlin's documented behaviour (queue.cpp semantics), for the
property tests: RX buffer of fixed size that drops overflowing bytes, the
``N == last_N + 1`` rule with the M110 exemption, XOR checksums, a line error
that empties the RX buffer and asks for ``Resend: last_N+1`` (optionally
followed by a bare ``ok`` as Marlin 2.1 does), a ring of BUFSIZE commands,
and one ``ok`` per executed command (``ok N<n> P<p> B<b>`` with ADVANCED_OK).
"""

from __future__ import annotations

import re
from collections import deque
from functools import reduce
from operator import xor

_COMMAND = re.compile(r"^[GMT]\d+$")


class MarlinModel:
    def __init__(
        self,
        *,
        advanced_ok: bool = True,
        resend_ok: bool = True,
        bufsize: int = 4,
        rx_size: int = 128,
        max_cmd: int = 96,
    ) -> None:
        self.advanced_ok = advanced_ok
        self.resend_ok = resend_ok
        self.bufsize = bufsize
        self.rx_size = rx_size
        self.max_cmd = max_cmd
        self.rx = bytearray()
        self.partial = bytearray()
        self.ring: deque[tuple[str, str]] = deque()  # (raw line, command text)
        self.last_n = 0
        self.executed: list[str] = []
        self.output: list[str] = []
        self.overflowed = 0
        self.line_errors = 0

    # host -> firmware ---------------------------------------------------
    def receive(self, data: bytes) -> None:
        """Bytes arriving on the wire; like AVR, one RX slot stays unused."""
        space = self.rx_size - 1 - len(self.rx)
        self.rx += data[:space]
        self.overflowed += max(0, len(data) - space)

    def read_serial(self) -> None:
        """Move complete lines from RX into the command ring while it has room."""
        while self.rx and len(self.ring) < self.bufsize:
            c = self.rx.pop(0)
            if c in (10, 13):
                if self.partial:
                    raw = self.partial.decode("latin-1")
                    self.partial.clear()
                    self._line(raw)
            elif len(self.partial) < self.max_cmd - 1:
                self.partial.append(c)

    def _line(self, raw: str) -> None:
        text = raw.split(";", 1)[0].strip()
        if not text:
            return
        if text[0] == "N":
            is_m110 = "M110" in text
            npos = text.find("N", text.find("M110") + 4) if is_m110 else 0
            if npos < 0:
                npos = 0
            digits = ""
            for ch in text[npos + 1 :]:
                if ch.isdigit() or (ch == "-" and not digits):
                    digits += ch
                else:
                    break
            n = int(digits) if digits.lstrip("-") else 0
            if n != self.last_n + 1 and not is_m110:
                self._error("Line Number is not Last Line Number+1, Last Line: ")
                return
            star = text.rfind("*")
            if star < 0:
                self._error("No Checksum with line number, Last Line: ")
                return
            cs_text = text[star + 1 :].strip()
            expected = reduce(xor, text[:star].encode("latin-1"), 0)
            if not cs_text.isdigit() or int(cs_text) != expected:
                self._error("checksum mismatch, Last Line: ")
                return
            self.last_n = n
            body = text[:star]
            body = body[body.index(" ") + 1 :].strip() if " " in body else ""
            self.ring.append((text, body))
        elif "*" in text:
            self._error("No Line Number with checksum, Last Line: ")
        else:
            self.ring.append((text, text))

    def _error(self, message: str) -> None:
        self.line_errors += 1
        self.output.append(f"Error:{message}{self.last_n}")
        self.rx.clear()  # Marlin drains everything already received
        self.partial.clear()
        self.output.append(f"Resend: {self.last_n + 1}")
        if self.resend_ok:
            self.output.append("ok")

    # firmware work ------------------------------------------------------
    def execute_one(self) -> bool:
        if not self.ring:
            return False
        raw, command = self.ring[0]
        word = command.split(" ", 1)[0].upper()
        if not _COMMAND.match(word):
            # e.g. the digits left of a line cut by the RX flush: not run.
            self.output.append(f'echo:Unknown command: "{command}"')
        elif word == "M110":
            rest = command[4:].strip()
            if rest.startswith("N"):
                self.last_n = int(rest[1:].split()[0])
        elif word == "M105":
            self.ring.popleft()
            self.executed.append(command)
            self.output.append("ok T:21.0 /0.0 B:20.5 /0.0 @:0 B@:0")
            return True
        elif word == "M114":
            self.output.append("X:0.00 Y:0.00 Z:0.00 E:0.00 Count X:0 Y:0 Z:0")
        if _COMMAND.match(word):
            self.executed.append(command)
        ok = "ok"
        if self.advanced_ok:
            n = raw[1:].split(" ", 1)[0] if raw.startswith("N") else ""
            ok += (f" N{n}" if n else "") + f" P15 B{self.bufsize - len(self.ring)}"
        self.ring.popleft()
        self.output.append(ok)
        return True

    def take_output(self) -> bytes:
        data = "".join(line + "\n" for line in self.output).encode()
        self.output.clear()
        return data

    @property
    def idle(self) -> bool:
        return not self.rx and not self.ring and not self.output
