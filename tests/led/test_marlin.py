"""The marlin backend's G-code: M150 R U B [W] P [I], only for what changed."""

from __future__ import annotations

from components.led.backends.marlin import m150_script, mean

RED = (255, 0, 0, 0)
BLUE = (0, 0, 255, 0)


def test_uniform_frame_is_one_command_for_the_whole_strip() -> None:
    assert m150_script(None, [RED] * 3, 1.0, has_white=False, per_pixel=True) == \
        "M150 R255 U0 B0 P255"
    assert m150_script(None, [(1, 2, 3, 4)] * 3, 0.5, has_white=True, per_pixel=False) == \
        "M150 R1 U2 B3 W4 P128"


def test_nothing_is_sent_for_an_unchanged_or_empty_frame() -> None:
    assert m150_script([RED] * 3, [RED] * 3, 1.0, has_white=False, per_pixel=True) is None
    assert m150_script(None, [], 1.0, has_white=False, per_pixel=True) is None


def test_per_pixel_sends_only_changed_pixels_with_zero_based_index() -> None:
    previous = [RED, RED, BLUE]
    frame = [RED, BLUE, RED]
    assert m150_script(previous, frame, 1.0, has_white=False, per_pixel=True) == (
        "M150 I1 R0 U0 B255 P255\nM150 I2 R255 U0 B0 P255")
    # the first time (or after a size change) every pixel is sent
    assert m150_script(None, [RED, BLUE], 1.0, has_white=False, per_pixel=True) == (
        "M150 I0 R255 U0 B0 P255\nM150 I1 R0 U0 B255 P255")


def test_without_index_support_a_mixed_frame_is_its_mean_colour() -> None:
    assert mean([RED, BLUE]) == (128, 0, 128, 0)
    assert m150_script(None, [RED, BLUE], 1.0, has_white=False, per_pixel=False) == \
        "M150 R128 U0 B128 P255"
