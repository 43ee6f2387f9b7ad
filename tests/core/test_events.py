"""The event bus: typed events to the listeners of their class, in order, failures
isolated, coroutines awaited."""

from __future__ import annotations

import asyncio

import pytest

from gateway.events import BusEvent, EventBus


class Started(BusEvent, frozen=True):
    n: int


class Other(BusEvent, frozen=True):
    n: int


class StartedAgain(Started, frozen=True):
    """A subclass is an event of its own."""


def test_listeners_receive_the_event_in_subscription_order() -> None:
    bus = EventBus()
    seen: list[tuple[str, int]] = []
    bus.subscribe(Started, lambda e: seen.append(("a", e.n)))
    bus.subscribe(Started, lambda e: seen.append(("b", e.n)))
    bus.subscribe(Other, lambda e: seen.append(("other", e.n)))
    bus.emit(Started(7))
    assert seen == [("a", 7), ("b", 7)]


def test_delivery_is_by_exact_class() -> None:
    bus = EventBus()
    seen: list[BusEvent] = []
    bus.subscribe(Started, seen.append)
    bus.emit(StartedAgain(1))
    assert seen == []
    bus.emit(Started(2))
    assert seen == [Started(2)]


def test_events_are_immutable_values() -> None:
    event = Started(3)
    assert event == Started(3) and event != Other(3)
    with pytest.raises(AttributeError):
        event.n = 4  # type: ignore[misc]


def test_unsubscribe_stops_delivery() -> None:
    bus = EventBus()
    seen: list[int] = []
    unsubscribe = bus.subscribe(Started, lambda e: seen.append(e.n))
    bus.emit(Started(1))
    unsubscribe()
    unsubscribe()  # twice is harmless
    bus.emit(Started(2))
    assert seen == [1]


@pytest.mark.allow_error_logs
def test_a_failing_listener_does_not_stop_the_others(caplog: pytest.LogCaptureFixture) -> None:
    bus = EventBus()
    seen: list[int] = []

    def broken(_: Started) -> None:
        raise RuntimeError("boom")

    bus.subscribe(Started, broken)
    bus.subscribe(Started, lambda e: seen.append(e.n))
    bus.emit(Started(3))
    assert seen == [3]
    assert "listener for Started failed" in caplog.text


async def test_coroutine_listeners_run_on_the_loop() -> None:
    bus = EventBus()
    done = asyncio.Event()

    async def listener(event: Started) -> None:
        await asyncio.sleep(0)
        if event.n == 5:
            done.set()

    bus.subscribe(Started, listener)
    bus.emit(Started(5))
    await asyncio.wait_for(done.wait(), 5)
