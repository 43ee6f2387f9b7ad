"""``python -m gateway.hostlink.virtual``: run a virtual printer until Ctrl-C (SIGUSR1
resets the simulated board)."""

from __future__ import annotations

import argparse
import dataclasses
import signal
import sys
import threading

from .config import VirtualPrinterConfig
from .printer import VirtualPrinter


def _parser() -> argparse.ArgumentParser:
    d = VirtualPrinterConfig()
    p = argparse.ArgumentParser(prog="python -m gateway.hostlink.virtual", description=__doc__)
    p.add_argument("--baud", type=int, default=d.baud, help="0: an infinitely fast wire")
    p.add_argument("--bufsize", type=int, default=d.bufsize, help="command slots (BUFSIZE)")
    p.add_argument("--rx-buffer-size", type=int, default=d.rx_buffer_size)
    p.add_argument("--tx-buffer-size", type=int, default=d.tx_buffer_size)
    p.add_argument("--block-buffer-size", type=int, default=d.block_buffer_size)
    p.add_argument("--advanced-ok", action=argparse.BooleanOptionalAction, default=d.advanced_ok)
    p.add_argument(
        "--emergency-parser", action=argparse.BooleanOptionalAction, default=d.emergency_parser
    )
    p.add_argument(
        "--reset-on-open", action=argparse.BooleanOptionalAction, default=d.reset_on_open
    )
    p.add_argument("--meatpack", action=argparse.BooleanOptionalAction, default=d.meatpack)
    p.add_argument("--heated-chamber", action=argparse.BooleanOptionalAction,
                   default=d.heated_chamber, help="a heated chamber (M141/M191, C: reports)")
    p.add_argument("--max-cmd-size", type=int, default=d.max_cmd_size,
                   help="MAX_CMD_SIZE: longer lines are cut (and fail their checksum)")
    p.add_argument("--extruders", type=int, default=d.extruder_count)
    p.add_argument("--time-scale", type=float, default=d.time_scale)
    p.add_argument("--lean", action=argparse.BooleanOptionalAction, default=d.lean,
                   help="acknowledge moves without motion planning (command rate tests)")
    p.add_argument(
        "--command-delay",
        type=float,
        default=d.command_delay,
        help="extra seconds of processing per command",
    )
    p.add_argument("--sd-dir", default=None, help="directory backing the SD card")
    p.add_argument("--corruption-rate", type=float, default=0.0)
    p.add_argument("--record", default=None, help="append every executed command to this file")
    return p


def main(argv: list[str] | None = None) -> int:
    a = _parser().parse_args(argv)
    cfg = VirtualPrinterConfig(
        baud=a.baud,
        bufsize=a.bufsize,
        rx_buffer_size=a.rx_buffer_size,
        tx_buffer_size=a.tx_buffer_size,
        block_buffer_size=a.block_buffer_size,
        advanced_ok=a.advanced_ok,
        emergency_parser=a.emergency_parser,
        meatpack=a.meatpack,
        reset_on_open=a.reset_on_open,
        heated_chamber=a.heated_chamber,
        max_cmd_size=a.max_cmd_size,
        extruder_count=a.extruders,
        time_scale=a.time_scale,
        command_delay=a.command_delay,
        lean=a.lean,
        sd_dir=a.sd_dir,
        record_path=a.record,
    )
    vp = VirtualPrinter(cfg)
    port = vp.start()
    if a.corruption_rate:
        vp.set_corruption_rate(a.corruption_rate)
    print(port, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    # SIGUSR1: the board resets (a power cut, a reset button), whoever holds the port
    signal.signal(signal.SIGUSR1,
                  lambda *_: threading.Thread(target=vp.firmware_reset, daemon=True).start())
    stop.wait()
    stats = vp.stats
    vp.stop()
    for name, value in dataclasses.asdict(stats).items():
        print(f"{name}: {value}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
