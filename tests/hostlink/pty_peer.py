"""A scripted firmware on a pty, for cases the virtual printer does not play
(a board that never answers, or stops answering)."""

from __future__ import annotations

import os
import select
import threading
import tty
from collections.abc import Callable

Responder = Callable[[str], list[str]]


class PtyPeer:
    """Answers each received line with ``respond(line)``; ``respond`` may be
    swapped at any time."""

    def __init__(self, respond: Responder) -> None:
        self.respond = respond
        self.received: list[str] = []
        self._master, slave = os.openpty()
        tty.setraw(slave)
        self.path = os.ttyname(slave)
        self._slave = slave  # kept open so the pty survives host reopen
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PtyPeer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(2)
        os.close(self._master)
        os.close(self._slave)

    def _run(self) -> None:
        buf = b""
        while not self._stop.is_set():
            ready, _, _ = select.select([self._master], [], [], 0.02)
            if not ready:
                continue
            try:
                buf += os.read(self._master, 4096)
            except OSError:
                return
            *lines, buf = buf.split(b"\n")
            for raw in lines:
                line = raw.decode(errors="replace").strip()
                self.received.append(line)
                out = "".join(r + "\n" for r in self.respond(line))
                if out:
                    os.write(self._master, out.encode())


def plain_marlin(line: str) -> list[str]:
    """Just enough firmware for a handshake: ok to everything."""
    if " M115" in line:
        return ["FIRMWARE_NAME:Scripted 1.0", "ok"]
    return ["ok"]
