"""The log file an installation writes: DATA_DIR/logs/moonraker.log, bounded in size."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.logs import LogManager


@pytest.fixture
def restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)


@pytest.mark.usefixtures("restore_root_logger")
def test_log_file_rotates_by_size_and_keeps_backup_count(tmp_path: Path) -> None:
    log_file = tmp_path / "logs" / "moonraker.log"
    logs = LogManager()
    logs.setup(log_file, level="info", max_bytes=2000, backup_count=2, console=False)
    try:
        log = logging.getLogger("skysail.test")
        for i in range(200):
            # distinct messages: repeats of one message are rate-limited (gateway/loglimit)
            log.info(f"line {i} {'x' * 40}")
        log.debug("not written at INFO")
    finally:
        logs.close()
    files = sorted(p.name for p in log_file.parent.iterdir())
    assert files == ["moonraker.log", "moonraker.log.1", "moonraker.log.2"]
    assert all((log_file.parent / name).stat().st_size <= 2000 for name in files)
    text = log_file.read_text()
    assert "line 199" in text and "not written" not in text


@pytest.mark.usefixtures("restore_root_logger")
def test_rollover_starts_a_new_file(tmp_path: Path) -> None:
    log_file = tmp_path / "logs" / "moonraker.log"
    logs = LogManager()
    assert logs.rollover() is False  # no file configured (skysail -n)
    logs.setup(log_file, console=False)
    try:
        logging.getLogger("skysail.test").warning("before")
        assert logs.rollover() is True
        logging.getLogger("skysail.test").warning("after")
    finally:
        logs.close()
    assert "before" in (tmp_path / "logs" / "moonraker.log.1").read_text()
    assert "after" in log_file.read_text() and "before" not in log_file.read_text()


@pytest.mark.allow_error_logs
@pytest.mark.usefixtures("restore_root_logger")
def test_a_flood_of_one_message_cannot_rotate_the_log_away(tmp_path: Path) -> None:
    log_file = tmp_path / "logs" / "moonraker.log"
    logs = LogManager()
    logs.setup(log_file, level="info", max_bytes=20_000, backup_count=1, console=False)
    try:
        logging.getLogger("skysail.audit").warning("failed login for user %r from %s",
                                                   "alice", "10.0.0.7")
        flood = logging.getLogger("asyncio")
        for _ in range(20_000):
            flood.error("Exception in callback %s", "accept_handler")
    finally:
        logs.close()
    assert sorted(p.name for p in log_file.parent.iterdir()) == ["moonraker.log"]
    text = log_file.read_text()
    assert "failed login for user 'alice' from 10.0.0.7" in text  # the audit line stays
    assert text.count("Exception in callback") <= 20
