"""The G-code files of the run: a PrusaSlicer-looking print (header and thumbnails of the
test sample, a longer body of our own, two labelled objects), and HTTP helpers."""

from __future__ import annotations

import json
import urllib.request
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent.parent
SAMPLE = REPO / "tests" / "files_metadata" / "samples" / "prusaslicer.gcode"


def make_gcode(layers: int, moves: int) -> bytes:
    """PrusaSlicer header + thumbnails + footer from the sample, a longer body of our own:
    two objects labelled as PrusaSlicer labels them (`; printing object …`), which the
    upload turns into EXCLUDE_OBJECT markers (enable_object_processing)."""
    lines = SAMPLE.read_text().splitlines()
    first_cmd = next(i for i, ln in enumerate(lines) if ln.startswith("M73"))
    footer = next(i for i, ln in enumerate(lines) if ln.startswith("M104 S0"))
    head, tail = lines[:first_cmd], lines[footer:]
    body = [
        "M73 P0 R12",
        "M201 X1000 Y1000 Z200 E5000 ; sets maximum accelerations, mm/sec^2",
        "M140 S60 ; set bed temp",
        "M104 S215 ; set extruder temp",
        "M190 S60 ; wait for bed temp",
        "M109 S215 ; wait for extruder temp",
        "G28 ; home all",
        "G92 E0.0",
    ]
    e = 0.0
    for layer in range(1, layers + 1):
        z = round(layer * 0.2, 2)
        body += [";LAYER_CHANGE", f";Z:{z:g}", ";HEIGHT:0.2", ";BEFORE_LAYER_CHANGE",
                 "G92 E0.0", f";{z:g}", "", f"G1 Z{z:g} F720"]
        e = 0.0
        for name, x0 in (("benchy id:0 copy 0", 50.0), ("cube id:1 copy 0", 130.0)):
            body += [f"; printing object {name}", f"G0 X{x0:.3f} Y50.000 F9000"]
            for m in range(moves // 2):
                x = x0 + (m % 2) * 30
                y = 50 + m * 0.5
                e += 1.2
                body.append(f"G1 X{x:.3f} Y{y:.3f} E{e:.5f} F3000")
            body.append(f"; stop printing object {name}")
        body.append(f"M73 P{int(layer * 100 / layers)} R{max(0, layers - layer)}")
    text = "\n".join(head + body + tail) + "\n"
    text = text.replace("; total layers count = 30", f"; total layers count = {layers}")
    return text.encode()


def upload(base: str, name: str, data: bytes) -> dict[str, Any]:
    boundary = uuid.uuid4().hex
    parts = [
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"root\"\r\n\r\ngcodes\r\n".encode(),
        (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
         "Content-Type: application/octet-stream\r\n\r\n").encode() + data + b"\r\n",
        f"--{boundary}--\r\n".encode(),
    ]
    req = urllib.request.Request(
        base + "/server/files/upload", data=b"".join(parts), method="POST",
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())  # type: ignore[no-any-return]


def http_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return json.loads(resp.read())
