"""moonraker.conf.example documents every option of every section, and parses."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from components.announcements.component import AnnouncementsSection
from components.bed_mesh.config import BedMeshSection
from components.machine.services import MachineSection
from components.printer.config import PauseResumeSection, PrinterSection
from components.queue.config import JobQueueSection, QueueSection
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
    "printer": PrinterSection,
    "pause_resume": PauseResumeSection,
    "job_queue": JobQueueSection,
    "queue": QueueSection,
    "bed_mesh": BedMeshSection,
    "machine": MachineSection,
    "announcements": AnnouncementsSection,
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
