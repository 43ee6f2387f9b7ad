"""gateway.tasks.Background: tasks kept until done, failures logged, stop cancels."""

from __future__ import annotations

import asyncio
import logging

import pytest

from gateway.tasks import Background


async def test_a_task_is_kept_until_it_ends() -> None:
    tasks = Background("test task")
    gate = asyncio.Event()
    task = tasks.spawn(gate.wait())
    assert len(tasks) == 1
    gate.set()
    await task
    await tasks.wait()
    assert len(tasks) == 0


@pytest.mark.allow_error_logs
async def test_a_failure_is_logged_not_lost(caplog: pytest.LogCaptureFixture) -> None:
    async def broken() -> None:
        raise RuntimeError("boom")

    tasks = Background("test task")
    tasks.spawn(broken())
    await tasks.wait()
    assert "test task failed" in caplog.text and "boom" in caplog.text


async def test_cancel_ends_what_is_left() -> None:
    tasks = Background("test task")
    task = tasks.spawn(asyncio.sleep(3600))
    await tasks.cancel()
    assert task.cancelled() and len(tasks) == 0


async def test_a_brief_keeper_logs_one_line_at_its_level(
        caplog: pytest.LogCaptureFixture) -> None:
    async def refused() -> None:
        raise RuntimeError("device unreachable")

    tasks = Background("power", logging.WARNING, traceback=False)
    with caplog.at_level(logging.WARNING):
        tasks.spawn(refused())
        await tasks.wait()
    [record] = [r for r in caplog.records if r.name == "gateway.tasks"]
    assert record.levelno == logging.WARNING and record.exc_info is None
    assert record.getMessage() == "power: device unreachable"
