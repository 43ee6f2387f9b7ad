"""The firmware side of MeatPack: unpacking what the host sends (see
``gateway/hostlink/protocol/meatpack.py`` for the format). Written from the protocol's
description so that the host's encoder is tested against an independent decoder."""

from __future__ import annotations

_COMMAND = 0xFF
_LITERAL = 0xF
_CMD_ON, _CMD_OFF, _CMD_RESET = 0xFB, 0xFA, 0xF9
_CMD_QUERY, _CMD_NSP_ON, _CMD_NSP_OFF = 0xF8, 0xF7, 0xF6


class MeatPackDecoder:
    """Bytes in, characters out; commands change the state and ask for a report."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.active = False
        self.no_spaces = False
        self._ff = 0  # 0xFF bytes seen in a row (two announce a command)
        self._command_next = False
        self._literals = 0  # whole characters still to come
        self._held: int | None = None  # a packed 2nd character waiting behind a literal
        self.reports: list[str] = []  # "[MP] ..." lines the firmware must print

    def _table(self) -> bytes:
        return b"0123456789.E\nGX" if self.no_spaces else b"0123456789. \nGX"

    def feed(self, byte: int, out: bytearray) -> None:
        """One received byte; the characters it completes are appended to ``out``."""
        if byte == _COMMAND:
            if self._ff:
                self._ff = 0
                self._command_next = True
            else:
                self._ff = 1
            return
        if self._command_next:
            self._command_next = False
            self._command(byte)
            return
        if self._ff:
            self._ff = 0
            self._inner(_COMMAND, out)  # a lone 0xFF: two whole characters follow
        self._inner(byte, out)

    def _inner(self, byte: int, out: bytearray) -> None:
        if not self.active:
            out.append(byte)
            return
        if self._literals:
            out.append(byte)
            if self._held is not None:
                out.append(self._held)
                self._held = None
            self._literals -= 1
            return
        table = self._table()
        low, high = byte & 0xF, byte >> 4
        if low == _LITERAL:
            self._literals = 1
            if high == _LITERAL:
                self._literals = 2
            else:
                self._held = table[high]
            return
        first = table[low]
        out.append(first)
        if first == 0x0A:
            return  # a newline ends the byte
        if high == _LITERAL:
            self._literals = 1
        else:
            out.append(table[high])

    def _command(self, code: int) -> None:
        if code == _CMD_ON:
            self.active = True
        elif code == _CMD_OFF:
            self.active = False
        elif code == _CMD_RESET:
            reports = self.reports
            self.reset()
            self.reports = reports
        elif code == _CMD_NSP_ON:
            self.no_spaces = True
        elif code == _CMD_NSP_OFF:
            self.no_spaces = False
        self.reports.append(
            f"[MP] PV01 {'ON' if self.active else 'OFF'} {'NSP' if self.no_spaces else 'ESP'}"
        )
