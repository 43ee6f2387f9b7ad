"""Stopping the virtual printer while it is still starting (as a server shut down right
after start does) waits for the start instead of failing."""

from __future__ import annotations

import threading

from gateway.hostlink.virtual import VirtualPrinter, VirtualPrinterConfig


def test_stop_during_start_waits_for_it() -> None:
    for _ in range(5):
        vp = VirtualPrinter(VirtualPrinterConfig(time_scale=50.0))
        starter = threading.Thread(target=vp.start)
        starter.start()
        vp.stop()  # may run before, during or after start()
        starter.join(10)
        vp.stop()  # whatever the interleaving, a final stop leaves nothing running
        assert not starter.is_alive()
