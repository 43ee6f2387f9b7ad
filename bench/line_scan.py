"""CPU cost of scanning a print file for lines too long for the firmware at print start
(components/printer/line_fit.scan_file): a generated file of short moves with comments.

    .venv/bin/python -m bench.line_scan [--lines 1500000]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

from components.printer.line_fit import scan_file


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=1_500_000)
    args = parser.parse_args()
    rnd = random.Random(1)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.gcode"
        with open(path, "w") as f:
            f.write("; a long slicer comment " + "x" * 300 + "\n")
            for _ in range(args.lines):
                f.write(f"G1 X{rnd.uniform(0, 200):.3f} Y{rnd.uniform(0, 200):.3f} "
                        f"E{rnd.uniform(0, 1):.5f} ; comment\n")
        size = path.stat().st_size
        for _ in range(3):
            cpu, wall = time.process_time(), time.perf_counter()
            scan_file(path, 79)
            print(f"{size / 1e6:.1f} MB: cpu {time.process_time() - cpu:.3f} s, "
                  f"wall {time.perf_counter() - wall:.3f} s")


if __name__ == "__main__":
    main()
