"""Line numbers, checksums, M110 and command clean-up."""

from __future__ import annotations

from gateway.hostlink.protocol import (
    checksum,
    clean_command,
    command_word,
    frame,
    split_script,
)

from .proto_util import firmware, make, submit_all, wire


def test_checksum_is_xor_of_every_byte_before_the_star() -> None:
    assert checksum(b"N0 M110 N0") == 125
    assert frame(0, "M110 N0") == b"N0 M110 N0*125\n"


def test_lines_are_numbered_consecutively_with_checksums() -> None:
    proto = make(advanced_ok="on")
    submit_all(proto, "G28", "G1 X10")
    assert wire(proto) == ["N1 G28*18", "N2 G1 X10*83"]


def test_m110_sets_the_number_of_the_following_lines() -> None:
    proto = make()
    assert proto.submit("M110 N41")
    assert wire(proto) == ["N1 M110 N41*73"]
    firmware(proto, "ok")
    proto.submit("G28")
    assert wire(proto) == [frame(42, "G28").decode().strip()]


def test_nothing_is_sent_after_m110_until_its_ok() -> None:
    # Some firmwares change their counter only when M110 executes.
    proto = make(advanced_ok="on")
    proto.submit("M110 N0")
    assert not proto.submit("G28")
    assert wire(proto) == ["N1 M110 N0*124"]
    firmware(proto, "ok N1 P15 B3")
    assert proto.submit("G28")
    assert wire(proto) == ["N1 G28*18"]


def test_m110_without_argument_keeps_numbering() -> None:
    proto = make()
    proto.submit("G28")
    firmware(proto, "ok")
    proto.submit("M110")
    firmware(proto, "ok")
    proto.submit("G1 X1")
    assert wire(proto)[-1].startswith("N3 G1 X1*")


def test_clean_command_strips_comments_and_white_space() -> None:
    assert clean_command("  G1 X10 Y5 ; move\r") == "G1 X10 Y5"
    assert clean_command("; only a comment") == ""
    assert clean_command("   ") == ""


def test_clean_command_drops_caller_supplied_number_and_checksum() -> None:
    assert clean_command("N12 G1 X3*57") == "G1 X3"


def test_split_script_keeps_order_and_skips_blank_and_comment_lines() -> None:
    script = "G28\n\n; home done\nG1 Z5 ; lift\nM400\n"
    assert split_script(script) == ["G28", "G1 Z5", "M400"]


def test_command_word_is_letter_and_number() -> None:
    assert command_word("M114") == "M114"
    assert command_word("g1 X1") == "G1"
    assert command_word("T0") == "T0"
    assert command_word("M117 Hello") == "M117"
