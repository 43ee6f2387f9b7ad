"""The SD card: a host directory presented with DOS 8.3 names, plus the open file."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_GCODE_EXT = (".gco", ".gcode", ".g")
_BAD = re.compile(r"[^A-Z0-9_\-~]")


@dataclass
class SdEntry:
    dos_path: str  # e.g. "SUBDIR~1/PART.GCO"
    long_name: str  # the host file name (display only)
    size: int
    path: Path


def _dos_parts(name: str) -> tuple[str, str]:
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    return _BAD.sub("", stem.upper().replace(" ", "")), _BAD.sub("", ext.upper())[:3]


class SdCard:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = b""
        self.pos = 0
        self.selected: SdEntry | None = None
        self.printing = False
        self.saving: Path | None = None  # M28 target
        self._save_buf: list[str] = []

    # ------------------------------------------------------------------ listing
    def _names(self, folder: Path) -> list[tuple[str, Path]]:
        """(8.3 name, path) for every entry of ``folder``, unique like a FAT driver makes them."""
        out: list[tuple[str, Path]] = []
        used: set[str] = set()
        for p in sorted(folder.iterdir(), key=lambda q: q.name):
            if p.name.startswith("."):
                continue
            stem, ext = _dos_parts(p.name)
            short = stem if (len(stem) <= 8 and stem) else ""
            full = short + ("." + ext if ext else "")
            lossy = not short or stem + ("." + ext if ext else "") != p.name.upper()
            if lossy or full in used:
                k = 1
                while True:
                    tail = f"~{k}"
                    full = (stem or "FILE")[: 8 - len(tail)] + tail + ("." + ext if ext else "")
                    if full not in used:
                        break
                    k += 1
            used.add(full)
            out.append((full, p))
        return out

    def entries(self) -> list[SdEntry]:
        result: list[SdEntry] = []

        def walk(folder: Path, prefix: str) -> None:
            for short, p in self._names(folder):
                if p.is_dir():
                    walk(p, prefix + short + "/")
                elif p.suffix.lower() in _GCODE_EXT:
                    result.append(SdEntry(prefix + short, p.name, p.stat().st_size, p))

        if self.root.is_dir():
            walk(self.root, "")
        return result

    def find(self, name: str) -> SdEntry | None:
        want = name.strip().lstrip("/")
        for e in self.entries():
            rel = e.path.relative_to(self.root).as_posix()
            if want.upper() == e.dos_path.upper() or want == rel:
                return e
        return None

    # ------------------------------------------------------------------ printing
    def select(self, entry: SdEntry) -> None:
        self.selected = entry
        self.data = entry.path.read_bytes()
        self.pos = 0
        self.printing = False

    def close(self) -> None:
        self.selected = None
        self.data = b""
        self.pos = 0
        self.printing = False

    @property
    def size(self) -> int:
        return len(self.data)

    def eof(self) -> bool:
        return self.pos >= len(self.data)

    def next_line(self, max_len: int) -> str | None:
        """The next non-empty line (comment stripped), or None at end of file."""
        while self.pos < len(self.data):
            end = self.data.find(b"\n", self.pos)
            if end < 0:
                end = len(self.data)
            raw = self.data[self.pos : end].decode("latin-1").rstrip("\r")
            self.pos = end + 1 if end < len(self.data) else end
            semi = raw.find(";")
            if semi >= 0:
                raw = raw[:semi]
            raw = raw[:max_len].strip()
            if raw:
                return raw
        return None

    # ------------------------------------------------------------------ writing (M28/M29)
    def begin_write(self, name: str) -> Path:
        stem, ext = _dos_parts(name.strip())
        target = self.root / ((stem[:8] or "FILE") + ("." + ext if ext else ""))
        self.saving = target
        self._save_buf = []
        return target

    def write_line(self, line: str) -> None:
        self._save_buf.append(line)

    def end_write(self) -> None:
        if self.saving is not None:
            tmp = self.saving.with_name(self.saving.name + ".part")
            tmp.write_text("".join(s + "\n" for s in self._save_buf), encoding="latin-1")
            tmp.replace(self.saving)
        self.saving = None
        self._save_buf = []
