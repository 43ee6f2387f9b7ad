"""SD card events, MeatPack reports, line-error numbers, the handshake's odd oks and the
link-quality counters: firmware text in, typed events out."""

from __future__ import annotations

from gateway.hostlink.protocol import (
    PROBE_LINE,
    CommandAcknowledged,
    EchoMessage,
    FirmwareError,
    MeatPackState,
    SdCardChanged,
    SdFile,
    SdFileList,
    SdFileOpened,
    SdPrintDone,
    checksum,
)

from .proto_util import acked, advanced, firmware, make, of, resends, submit_all, wire


def test_file_opened_is_an_event_and_the_reply_of_m23() -> None:
    proto = make()
    submit_all(proto, "M23 /PART~1.GCO")
    wire(proto)
    events = firmware(proto, "File opened: PART~1.GCO Size: 5678", "File selected", "ok")
    assert of(events, SdFileOpened) == [SdFileOpened("PART~1.GCO", 5678)]
    (ack,) = of(events, CommandAcknowledged)
    assert ack.replies == ("File opened: PART~1.GCO Size: 5678", "File selected")


def test_done_printing_file_is_an_event_and_never_a_reply() -> None:
    proto = make()
    submit_all(proto, "M400")
    wire(proto)
    events = firmware(proto, "Done printing file", "ok")
    assert of(events, SdPrintDone) == [SdPrintDone()]
    assert of(events, CommandAcknowledged)[0].replies == ()


def test_sd_card_messages_with_or_without_echo_prefix() -> None:
    events = firmware(make(), "echo:SD card ok", "SD card released", "echo:SD init fail",
                      "echo:SD card inserted", "echo:No SD card")
    assert [(e.present, e.message) for e in of(events, SdCardChanged)] == [
        (True, "SD card ok"), (False, "SD card released"), (False, "SD init fail"),
        (True, "SD card inserted"), (False, "No SD card")]
    # the echo lines still reach the console as echoes
    assert len(of(events, EchoMessage)) == 4


def test_long_name_listing() -> None:
    proto = make()
    submit_all(proto, "M20 L")
    wire(proto)
    events = firmware(proto, "Begin file list", "PART~1.GCO 5678 Part one.gcode",
                      "CUBE.GCO 12", "End file list", "ok")
    assert of(events, SdFileList)[0].files == (
        SdFile("PART~1.GCO", 5678, "Part one.gcode"), SdFile("CUBE.GCO", 12, None))


def test_meatpack_state_report() -> None:
    events = firmware(make(), "[MP] PV01 ON NSP", "[MP] PV01 OFF ESP")
    assert of(events, MeatPackState) == [MeatPackState(True, True), MeatPackState(False, False)]


def test_line_errors_name_the_last_line_and_are_counted() -> None:
    proto = make()
    events = firmware(
        proto,
        "Error:Line Number is not Last Line Number+1, Last Line: 41",
        "Error:checksum mismatch, Last Line: 41",
        "Error:No Checksum with line number, Last Line: 41",
    )
    assert [e.last_line for e in of(events, FirmwareError)] == [41, 41, 41]
    c = proto.counters
    assert (c.line_number_errors, c.checksum_errors, c.other_line_errors) == (1, 1, 1)


def test_probe_line_is_refused_and_its_resend_request_ignored() -> None:
    proto = make()
    data = proto.probe_bytes()
    body = f"N{PROBE_LINE} M105".encode()
    assert data == b"\n" + body + b"*%d\n" % checksum(body)
    events = firmware(
        proto, "Error:Line Number is not Last Line Number+1, Last Line: 1234", "Resend: 1235",
        "ok")
    assert of(events, FirmwareError)[0].last_line == 1234
    assert resends(events) == [(1235, True)]
    assert not of(events, CommandAcknowledged)
    # nothing was learnt about oks after Resend from a probe: the stream starts clean
    assert not proto.learning_resend_ok


def test_ok_naming_m110s_argument_acknowledges_it() -> None:
    """Some firmwares answer M110 N0 with ``ok N0`` rather than the line's own number."""
    proto = make(advanced_ok="on")
    submit_all(proto, "M110 N0")
    assert wire(proto)[0].startswith("N1 M110 N0*")
    events = firmware(proto, "ok N0 P15 B3")
    assert acked(events) == ["M110 N0"]
    submit_all(proto, "M115")
    assert wire(proto)[0].startswith("N1 M115*")


def test_counters_follow_lines_resends_and_bytes() -> None:
    proto = make()
    advanced(proto)
    submit_all(proto, "G1 X1", "G1 X2", "G1 X3")
    sent = proto.data_to_send()
    events = firmware(proto, "Error:checksum mismatch, Last Line: 0", "Resend: 1", "ok",
                      "Resend: 1", "ok", "Resend: 1", "ok")
    assert [ignored for _, ignored in resends(events)] == [False, True, True]
    replay = proto.data_to_send()
    for n in (1, 2, 3):
        firmware(proto, f"ok N{n} P15 B3")
        replay += proto.data_to_send()  # the window grows back one line per ok
    c = proto.counters
    assert c.lines_sent == 4  # M110 and three moves
    assert c.lines_acknowledged == 4
    assert (c.resends, c.resend_echoes, c.checksum_errors) == (1, 2, 1)
    assert c.bytes_retransmit == len(replay) == len(sent)
    assert c.retransmit_seq == 3
