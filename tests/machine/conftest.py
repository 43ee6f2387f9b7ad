from __future__ import annotations

from pathlib import Path

import pytest

from tests.machine.fakehost import FakeHost, put


@pytest.fixture
def host(tmp_path: Path) -> FakeHost:
    """A populated fake /proc + /sys tree."""
    h = FakeHost(tmp_path)
    h.populate()
    return h


@pytest.fixture
def roots(tmp_path: Path) -> tuple[Path, Path, Path]:
    """Empty proc, sys and / trees; PID 1 is systemd (not a container)."""
    proc, sysfs, root = tmp_path / "proc", tmp_path / "sys", tmp_path / "root"
    for p in (proc, sysfs, root):
        p.mkdir()
    put(proc / "1/sched", "systemd (1, #threads: 1)\n---\n")
    put(proc / "1/cgroup", "0::/init.scope\n")
    return proc, sysfs, root
