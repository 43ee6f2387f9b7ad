"""moonraker.conf.example documents every [update_manager] and [spoolman] option."""

from __future__ import annotations

import re
from pathlib import Path

import msgspec
import pytest

from components.spoolman.config import SpoolmanSection
from components.update_manager.config import SelfSection, UpdateManagerSection, WebSection
from gateway.config import Config

EXAMPLE = Path(__file__).resolve().parents[2] / "moonraker.conf.example"


def commented_section(name: str) -> str:
    text = EXAMPLE.read_text()
    start = text.index(f"#[{name}]\n")
    lines = []
    for line in text[start:].splitlines()[1:]:
        if not line.startswith("#") or line.startswith("#["):
            break
        if re.match(r"#\w+:", line):
            lines.append(line[1:])
    return f"[{name}]\n" + "\n".join(lines) + "\n"


@pytest.mark.parametrize(("name", "struct"), [
    ("update_manager", UpdateManagerSection),
    ("update_manager skysail", SelfSection),
    ("update_manager mainsail", WebSection),
    ("spoolman", SpoolmanSection),
])
def test_example_documents_every_update_manager_option(
    name: str, struct: type[msgspec.Struct]
) -> None:
    cfg = Config.from_string(commented_section(name))
    assert set(cfg.raw(name)) == {f.name for f in msgspec.structs.fields(struct)}
    cfg.section(name, struct)
