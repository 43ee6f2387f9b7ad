"""Skysail's virtual environments, one per installed version:

    PREFIX/venv    → venvs/<hash>-<time>   (a symlink: the service runs PREFIX/venv/bin/skysail)
    PREFIX/venvs/<hash>-<time>/skysail-release.json   (what it was built from)

An upgrade builds a new environment beside the running one, checks that it imports and
runs, then points the link at it with one rename (atomic): a failed install never
touches the running version, and the previous environment stays for a rollback."""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from components.update_manager import proc

RELEASE_FILE = "skysail-release.json"
INSTALL_TIMEOUT = 1800.0
CHECK_TIMEOUT = 120.0
# imports every component module: a new version that cannot load one is not switched to
_IMPORT_CHECK = (
    "import importlib, pkgutil, components, gateway.app\n"
    "for m in pkgutil.iter_modules(components.__path__):\n"
    "    importlib.import_module('components.' + m.name)\n"
)


class LayoutError(Exception):
    """The installation is not laid out for switching environments."""


@dataclass(frozen=True, slots=True)
class Layout:
    link: Path  # PREFIX/venv, a symlink

    @property
    def venvs(self) -> Path:
        return self.link.parent / "venvs"

    def current(self) -> Path:
        return self.link.resolve()

    def check(self) -> None:
        if not self.link.is_symlink():
            if self.link.is_dir():
                raise LayoutError(
                    f"{self.link} is a plain virtual environment; run scripts/install.sh "
                    "once more to lay it out for upgrades")
            raise LayoutError(f"virtual environment {self.link} not found")
        if self.current().parent != self.venvs.resolve():
            raise LayoutError(f"{self.link} does not point into {self.venvs}")


def detect(configured: Path | None) -> Layout | None:
    """The layout from `[update_manager skysail] virtualenv`, else the running one's
    (sys.prefix is PREFIX/venvs/<name> when run through PREFIX/venv)."""
    if configured is not None:
        return Layout(configured.expanduser())
    prefix = Path(sys.prefix)
    if prefix.parent.name == "venvs":
        link = prefix.parent.parent / "venv"
        if link.is_symlink() and link.resolve() == prefix.resolve():
            return Layout(link)
    return None


def read_release(venv: Path) -> dict[str, str]:
    try:
        data = json.loads((venv / RELEASE_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def running_release() -> dict[str, str]:
    return read_release(Path(sys.prefix))


def new_name(commit: str) -> str:
    return f"{commit[:10]}-{time.strftime('%Y%m%d%H%M%S')}"


async def build(
    layout: Layout,
    source: Path,
    release: dict[str, str],
    on_line: proc.LineCallback,
    python: str | None = None,
) -> Path:
    """A new environment in layout.venvs with Skysail installed from `source` (a folder
    with pyproject.toml), checked. Removed again if anything fails."""
    layout.venvs.mkdir(parents=True, exist_ok=True)
    target = layout.venvs / new_name(release.get("commit", "unknown"))
    base = python or sys.executable
    try:
        on_line(f"Creating virtual environment {target.name}")
        # without pip: the running environment's pip installs into it (much faster than
        # ensurepip), pip included, so the next upgrade has one
        await proc.run([base, "-m", "venv", "--without-pip", str(target)], timeout=120,
                       on_line=on_line)
        on_line("Installing Skysail and its dependencies")
        await proc.run(
            [sys.executable, "-m", "pip", "--python", str(target / "bin" / "python"),
             "install", "--progress-bar", "off", "pip", str(source)],
            timeout=INSTALL_TIMEOUT, on_line=on_line, cwd=target)
        on_line("Checking the new installation")
        await proc.run([str(target / "bin" / "skysail"), "--version"], timeout=CHECK_TIMEOUT,
                       on_line=on_line, cwd=target)
        await proc.run([str(target / "bin" / "python"), "-c", _IMPORT_CHECK],
                       timeout=CHECK_TIMEOUT, on_line=on_line, cwd=target)
        (target / RELEASE_FILE).write_text(json.dumps(release, indent=1) + "\n")
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    return target


def switch(layout: Layout, target: Path) -> None:
    """Point the link at `target` with one rename."""
    tmp = layout.link.with_name(f".{layout.link.name}.switch-{os.getpid()}")
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(os.path.relpath(target, layout.link.parent))
    os.replace(tmp, layout.link)


def prune(layout: Layout, keep: Iterable[Path]) -> list[Path]:
    """Delete environments other than `keep` (the current and the rollback one)."""
    kept = {p.resolve() for p in keep}
    removed: list[Path] = []
    if not layout.venvs.is_dir():
        return removed
    for entry in layout.venvs.iterdir():
        if entry.is_dir() and not entry.is_symlink() and entry.resolve() not in kept:
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed
