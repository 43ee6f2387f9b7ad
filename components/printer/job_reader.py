"""Reads a G-code file for streaming: the commands to send, each with the file offset just
after its line (progress is the byte position of the last line the printer acknowledged),
and the layer changes the slicer marked, by offset."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator
from pathlib import Path

from gateway.gcode import parse_layer_marker

CHUNK = 256 * 1024
# Klipper commands that only inform the host; Marlin would answer "Unknown command"
HOST_ONLY_PREFIXES = (b"SET_PRINT_STATS_INFO",)


def strip_line(raw: bytes) -> str:
    """The command part of a line: comment removed, whitespace trimmed ('' when none)."""
    cut = raw.find(b";")
    if cut >= 0:
        raw = raw[:cut]
    return raw.strip().decode("utf-8", errors="replace")


class LayerTrack:
    """Layer numbers by file offset, filled while the file is read ahead of the printer."""

    def __init__(self, on_layer: Callable[[int], None] | None = None) -> None:
        self.offsets: list[int] = []
        self.layers: list[int] = []
        self.total: int | None = None
        self._current = 0
        # called as a layer's marker is read (ahead of the printer): a pause at a layer
        self.on_layer = on_layer

    def marker(self, raw: bytes, offset: int) -> None:
        found = parse_layer_marker(raw.decode("utf-8", errors="replace"))
        if found is None:
            return
        if found.total is not None:
            self.total = found.total
        if found.layer is not None:
            self._current = found.layer
        elif found.total is None and found.z is None:
            self._current += 1  # ";LAYER_CHANGE": the next layer
        else:
            return
        self.offsets.append(offset)
        self.layers.append(self._current)
        if self.on_layer is not None:
            self.on_layer(self._current)

    def seed(self, offset: int, layer: int) -> None:
        """The layer already being printed at ``offset`` (a print resumed there)."""
        self._current = layer
        self.offsets.append(offset)
        self.layers.append(layer)

    def layer_at(self, offset: int) -> int | None:
        """The layer being printed once the printer has acknowledged up to `offset`."""
        index = bisect.bisect_right(self.offsets, offset) - 1
        return self.layers[index] if index >= 0 else None


def read_commands(
    path: Path, start: int = 0, layers: LayerTrack | None = None
) -> Iterator[tuple[str, int]]:
    """(command, offset after its line) for every line with a command, from `start`."""
    with open(path, "rb") as f:
        f.seek(start)
        offset = start
        pending = b""
        while True:
            chunk = f.read(CHUNK)
            if not chunk:
                lines = [pending] if pending else []
                pending = b""
            else:
                lines = (pending + chunk).split(b"\n")
                pending = lines.pop()
            for raw in lines:
                offset += len(raw) + (1 if chunk else 0)
                stripped = raw.lstrip()
                # a marker applies from the end of its line on
                if layers is not None and stripped[:1] == b";":
                    layers.marker(stripped, offset)
                    continue
                if stripped.startswith(HOST_ONLY_PREFIXES):
                    if layers is not None:
                        layers.marker(stripped, offset)
                    continue
                command = strip_line(raw)
                if command:
                    yield command, offset
            if not chunk:
                break
