"""The precedence table, pair by pair: whenever two conditions hold, the higher one shows."""

from __future__ import annotations

import itertools

import pytest

from components.led.precedence import PRECEDENCE, Layer, resolve

# written out here, independently of the module: a change to the table must change this test
EXPECTED = [
    Layer.LIGHTS_OFF,
    Layer.TORCH,
    Layer.INACTIVE,
    Layer.ERROR,
    Layer.MANUAL,
    Layer.DISCONNECTED,
    Layer.PAUSED,
    Layer.HEATING,
    Layer.PRINTING,
    Layer.CANCELLED,
    Layer.COMPLETE,
    Layer.IDLE,
]
PAIRS = list(itertools.combinations(EXPECTED, 2))


def test_the_table_is_the_expected_one_and_covers_every_layer() -> None:
    assert list(PRECEDENCE) == EXPECTED
    assert set(PRECEDENCE) == set(Layer)
    assert len(PAIRS) == len(EXPECTED) * (len(EXPECTED) - 1) // 2


@pytest.mark.parametrize(("higher", "lower"), PAIRS, ids=lambda layer: layer.value)
def test_every_pair(higher: Layer, lower: Layer) -> None:
    assert resolve({higher, lower}) is higher
    assert resolve([lower, higher]) is higher


def test_nothing_active_is_idle_and_everything_active_is_lights_off() -> None:
    assert resolve(set()) is Layer.IDLE
    assert resolve(set(Layer)) is Layer.LIGHTS_OFF
