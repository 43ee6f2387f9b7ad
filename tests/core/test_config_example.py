"""moonraker.conf.example documents every option of every core section, and parses."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from gateway.config import Config
from gateway.hostlink.config import SerialConfig
from gateway.settings import (
    AuthorizationSection,
    DatabaseSection,
    FileManagerSection,
    ServerSection,
    WebSection,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "moonraker.conf.example"
SECTIONS: dict[str, type[msgspec.Struct]] = {
    "server": ServerSection,
    "authorization": AuthorizationSection,
    "database": DatabaseSection,
    "file_manager": FileManagerSection,
    "web": WebSection,
    "serial": SerialConfig,
}


@pytest.mark.parametrize("name", sorted(SECTIONS))
def test_example_documents_every_option_and_parses(
    name: str, caplog: pytest.LogCaptureFixture
) -> None:
    cfg = Config.load(EXAMPLE)
    struct = SECTIONS[name]
    documented = set(cfg.raw(name))
    declared = {f.name for f in msgspec.structs.fields(struct)}
    assert documented == declared
    parsed = cfg.section(name, struct)
    assert parsed == struct()  # the example shows the defaults
    assert "unknown option" not in caplog.text
