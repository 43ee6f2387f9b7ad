from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parent / "samples"


@pytest.fixture
def sample(tmp_path: Path) -> Callable[[str], Path]:
    """Copy a committed sample into a fresh gcodes root and return its path."""

    def copy(name: str) -> Path:
        dest = tmp_path / "gcodes" / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SAMPLES / name, dest)
        return dest

    return copy
