"""MeatPack: the host's encoder against the virtual printer's independent decoder, and
the engine's switching (packed lines, emergencies around packing, falling back)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.hostlink.protocol import MeatPackStopped, checksum, meatpack
from gateway.hostlink.virtual.meatpack import MeatPackDecoder

from .proto_util import advanced, firmware, make, of, submit_all


def unpack(data: bytes, decoder: MeatPackDecoder) -> bytes:
    out = bytearray()
    for byte in data:
        decoder.feed(byte, out)
    return bytes(out)


def packing_decoder(no_spaces: bool) -> MeatPackDecoder:
    decoder = MeatPackDecoder()
    unpack(meatpack.ENABLE + (meatpack.NO_SPACES_ON if no_spaces else b""), decoder)
    decoder.reports.clear()
    return decoder


gcode_text = st.text(alphabet="0123456789. GXYZEFIJNMST*-;:\"abcé", max_size=60)


@settings(max_examples=300, deadline=None)
@given(lines=st.lists(gcode_text, min_size=1, max_size=8), no_spaces=st.booleans())
def test_packed_lines_unpack_to_the_same_text(lines: list[str], no_spaces: bool) -> None:
    decoder = packing_decoder(no_spaces)
    if no_spaces:  # a space has no code then; it is sent whole like any other character
        lines = [line.replace("E", "e") for line in lines]
    wire = [(line + "\n").encode() for line in lines]
    packed = b"".join(meatpack.pack(w, no_spaces) for w in wire)
    assert unpack(packed, decoder) == b"".join(wire)
    # never two command bytes in a row: the decoder would take them for a command
    assert b"\xff\xff" not in packed


def test_a_typical_move_takes_about_half_the_bytes() -> None:
    plain = b"N1234 G1 X123.456 Y78.901 E0.01234*56\n"
    squeezed = b"N1234G1X123.456Y78.901E0.01234*56\n"
    packed = meatpack.pack(squeezed, True)
    assert unpack(packed, packing_decoder(True)) == squeezed
    assert len(packed) <= 0.55 * len(plain)


def test_decoder_commands_are_reported_and_recognised_between_lines() -> None:
    decoder = MeatPackDecoder()
    out = unpack(b"G28\n" + meatpack.ENABLE + meatpack.pack(b"G1 X1\n", False), decoder)
    assert out == b"G28\nG1 X1\n"
    assert decoder.reports == ["[MP] PV01 ON ESP"]


def test_engine_packs_after_start_and_checksums_the_text_the_firmware_reads() -> None:
    proto = make()
    advanced(proto)
    proto.start_meatpack(no_spaces=True)
    assert submit_all(proto, "G1 X10 Y20 E0.5", "M117 Hello world") == [
        "G1 X10 Y20 E0.5", "M117 Hello world"]
    data = proto.data_to_send()
    assert data.startswith(meatpack.ENABLE + meatpack.NO_SPACES_ON)
    decoder = MeatPackDecoder()
    text = unpack(data, decoder).decode()
    first, second = text.splitlines()
    # spaces left out of moves, kept in a message
    body, _, cs = first.partition("*")
    assert body == "N1G1X10Y20E0.5" and int(cs) == checksum(body.encode())
    assert second.startswith("N2M117 Hello world*")
    assert decoder.reports == ["[MP] PV01 ON ESP", "[MP] PV01 ON NSP"]


def test_emergency_command_goes_out_unpacked_with_packing_paused_around_it() -> None:
    proto = make()
    advanced(proto)
    proto.start_meatpack()
    proto.data_to_send()
    wire = proto.send_unnumbered("M108")
    assert wire == meatpack.DISABLE + b"\nM108\n" + meatpack.ENABLE
    # the firmware's decoder sees an empty line, M108, and packing again
    decoder = packing_decoder(True)
    assert unpack(wire + meatpack.pack(b"N3G1X1*0\n", True), decoder) == b"\nM108\nN3G1X1*0\n"


def test_a_line_refused_three_times_while_packed_switches_packing_off() -> None:
    proto = make()
    advanced(proto)
    proto.start_meatpack()
    submit_all(proto, "G1 X1")
    proto.data_to_send()
    events = []
    for _ in range(3):
        assert proto.meatpack
        events += firmware(proto, "Error:checksum mismatch, Last Line: 0", "Resend: 1", "ok")
        data = proto.data_to_send()  # the replay
    assert of(events, MeatPackStopped)
    assert not proto.meatpack
    # packing is switched off before the replay, which goes out as plain text
    assert data.startswith(meatpack.DISABLE + meatpack.NO_SPACES_OFF)
    assert data.endswith(b"N1G1X1*" + str(checksum(b"N1G1X1")).encode() + b"\n")
