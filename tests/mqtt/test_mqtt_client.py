"""The broker connection itself (components/mqtt/client.py) against a real Mosquitto:
subscriptions made at any moment of a connection's life reach the broker."""

from __future__ import annotations

import asyncio
import time

from components.mqtt.client import BrokerClient, BrokerSettings
from tests.broker import Mosquitto, probe
from tests.harness import wait_for


async def test_a_subscription_made_while_the_connection_subscribes_is_not_lost(
    broker: Mosquitto,
) -> None:
    """A component starting while the connection is re-subscribing the earlier topics
    (as [sensor] does after [mqtt] on a busy machine) still gets its topic."""
    client = BrokerClient(BrokerSettings("127.0.0.1", broker.port))
    early = [f"early/{i}" for i in range(5)]
    for topic in early:
        client.subscribe(topic, lambda _: None)
    received: list[bytes] = []
    client.start()
    try:
        # the moment the broker acknowledged the first earlier topic, the connection is
        # up but still subscribing the rest; polled at every turn of the loop, since a
        # poll interval could miss that moment
        deadline = time.monotonic() + 20
        while not client.acknowledged:
            assert time.monotonic() < deadline, "no topic acknowledged"
            await asyncio.sleep(0)
        assert not client.is_connected
        client.subscribe("late/topic", received.append)
        await wait_for(lambda: client.is_connected, what="connected")
        await wait_for(lambda: "late/topic" in client.acknowledged, what="late acknowledged")
        async with probe(broker.port) as p:
            await p.publish("late/topic", b"hello")
        await wait_for(lambda: received == [b"hello"], what="the late topic's message")
    finally:
        await client.stop()
