"""The event bus: every listener called in order, failures isolated, coroutines awaited."""

from __future__ import annotations

import asyncio

import pytest

from gateway.events import EventBus


def test_listeners_receive_arguments_in_subscription_order() -> None:
    bus = EventBus()
    seen: list[tuple[str, int]] = []
    bus.subscribe("job:started", lambda n: seen.append(("a", n)))
    bus.subscribe("job:started", lambda n: seen.append(("b", n)))
    bus.subscribe("job:other", lambda n: seen.append(("other", n)))
    bus.emit("job:started", 7)
    assert seen == [("a", 7), ("b", 7)]


def test_unsubscribe_stops_delivery() -> None:
    bus = EventBus()
    seen: list[int] = []
    unsubscribe = bus.subscribe("x", seen.append)
    bus.emit("x", 1)
    unsubscribe()
    bus.emit("x", 2)
    assert seen == [1]


@pytest.mark.allow_error_logs
def test_a_failing_listener_does_not_stop_the_others(caplog: pytest.LogCaptureFixture) -> None:
    bus = EventBus()
    seen: list[int] = []

    def broken(_: int) -> None:
        raise RuntimeError("boom")

    bus.subscribe("x", broken)
    bus.subscribe("x", seen.append)
    bus.emit("x", 3)
    assert seen == [3]
    assert "listener for x failed" in caplog.text


async def test_coroutine_listeners_run_on_the_loop() -> None:
    bus = EventBus()
    done = asyncio.Event()

    async def listener(value: int) -> None:
        await asyncio.sleep(0)
        if value == 5:
            done.set()

    bus.subscribe("x", listener)
    bus.emit("x", 5)
    await asyncio.wait_for(done.wait(), 5)
