"""Resend requests, the echoes that follow them, lost oks and restarts."""

from __future__ import annotations

from gateway.hostlink.protocol import (
    CommandAcknowledged,
    ErrorKind,
    FirmwareError,
    FirmwareStarted,
    LineAbandoned,
    ProtocolFailure,
)

from .proto_util import acked, advanced, firmware, make, of, resends, submit_all, wire

MOVES = [f"G1 X{i}" for i in range(1, 9)]


def several_in_flight(count: int = 4) -> tuple[object, list[str]]:
    proto = make()
    advanced(proto)
    submit_all(proto, *MOVES[:count])
    return proto, wire(proto)


def test_resend_request_replays_from_requested_line() -> None:
    proto = make()
    advanced(proto)
    submit_all(proto, "G1 X1", "G1 X2", "G1 X3")
    assert len(wire(proto)) == 3
    events = firmware(
        proto,
        "Error:checksum mismatch, Last Line: 1",
        "Resend: 2",
        "ok",
    )
    assert resends(events) == [(2, False)]
    assert acked(events) == []  # the bare ok after Resend acknowledges nothing
    # N1 was accepted (it is queued in the firmware); one line goes past it.
    assert [line.split("*")[0] for line in wire(proto)] == ["N2 G1 X2"]
    assert acked(firmware(proto, "ok N1 P15 B3")) == ["G1 X1"]
    assert [line.split("*")[0] for line in wire(proto)] == ["N3 G1 X3"]


def test_line_errors_for_lines_the_firmware_discarded_are_ignored() -> None:
    # N2 is corrupted; Marlin drops N3..N4 from its buffer, but the tail of N4
    # and N5 were still on the wire and each produce another error + Resend: 2.
    proto = make()
    advanced(proto)
    submit_all(proto, "G1 X1", "G1 X2", "G1 X3", "G1 X4", "G1 X5")
    wire(proto)
    events = firmware(
        proto,
        "Error:checksum mismatch, Last Line: 1",
        "Resend: 2",
        "ok",
    )
    assert resends(events) == [(2, False)]
    assert [line.split("*")[0] for line in wire(proto)] == ["N2 G1 X2"]
    events = firmware(
        proto,
        "Error:No Line Number with checksum, Last Line: 1",
        "Resend: 2",
        "ok",
        "Error:Line Number is not Last Line Number+1, Last Line: 1",
        "Resend: 2",
        "ok",
    )
    assert resends(events) == [(2, True), (2, True)]
    assert [e.kind for e in of(events, FirmwareError)] == [ErrorKind.LINE, ErrorKind.LINE]
    assert wire(proto) == []  # nothing sent twice
    assert acked(firmware(proto, "ok N1 P15 B3", "ok N2 P15 B3")) == ["G1 X1", "G1 X2"]
    assert [line.split("*")[0] for line in wire(proto)] == ["N3 G1 X3", "N4 G1 X4", "N5 G1 X5"]


def test_repeated_resend_after_echoes_are_used_up_is_honoured() -> None:
    proto = make()
    advanced(proto)
    submit_all(proto, "G1 X1", "G1 X2")
    wire(proto)
    firmware(proto, "Error:checksum mismatch, Last Line: 0", "Resend: 1", "ok")
    assert [line.split("*")[0] for line in wire(proto)] == ["N1 G1 X1"]
    # One echo expected (for N2), then the replayed N1 itself is corrupted.
    firmware(proto, "Error:Line Number is not Last Line Number+1, Last Line: 0", "Resend: 1", "ok")
    assert wire(proto) == []
    events = firmware(proto, "Error:checksum mismatch, Last Line: 0", "Resend: 1", "ok")
    assert resends(events) == [(1, False)]
    assert [line.split("*")[0] for line in wire(proto)] == ["N1 G1 X1"]


def test_resend_drops_to_one_line_in_flight_and_recovers_gradually() -> None:
    proto = make()
    advanced(proto)
    submit_all(proto, *MOVES[:3])
    wire(proto)
    firmware(proto, "Error:checksum mismatch, Last Line: 0", "Resend: 1", "ok")
    wire(proto)
    assert proto.in_flight == 1
    assert submit_all(proto, "G1 Y1") == []
    firmware(proto, "ok N1 P15 B3")  # window 2 now
    wire(proto)
    assert proto.in_flight == 2
    firmware(proto, "ok N2 P15 B3", "ok N3 P15 B3")
    assert submit_all(proto, "G1 Y1", "G1 Y2", "G1 Y3") == ["G1 Y1", "G1 Y2", "G1 Y3"]


def test_resend_in_plain_mode_replays_the_line_once() -> None:
    proto = make()
    proto.submit("G1 X1")
    wire(proto)
    events = firmware(proto, "Error:checksum mismatch, Last Line: 0", "Resend: 1", "ok")
    assert acked(events) == []
    assert [line.split("*")[0] for line in wire(proto)] == ["N1 G1 X1"]
    assert acked(firmware(proto, "ok")) == ["G1 X1"]


def test_firmware_without_ok_after_resend_holds_replay_until_next_line() -> None:
    # Marlin 2.0.x sends no ok after "Resend:". Until a bare ok has been seen
    # the replay waits for the next line, so the ok of the replay cannot be
    # mistaken for the Resend's.
    proto = make()
    proto.submit("G1 X1")
    wire(proto)
    firmware(proto, "Error:checksum mismatch, Last Line: 0", "Resend: 1")
    assert proto.learning_resend_ok
    assert wire(proto) == []
    firmware(proto, "echo:busy: processing")
    assert not proto.learning_resend_ok
    assert [line.split("*")[0] for line in wire(proto)] == ["N1 G1 X1"]
    assert acked(firmware(proto, "ok")) == ["G1 X1"]


def test_ok_right_after_resend_is_learned_and_swallowed_from_then_on() -> None:
    proto = make()
    proto.submit("G1 X1")
    wire(proto)
    firmware(proto, "Error:checksum mismatch, Last Line: 0", "Resend: 1", "ok")
    assert [line.split("*")[0] for line in wire(proto)] == ["N1 G1 X1"]
    assert acked(firmware(proto, "ok")) == ["G1 X1"]
    proto.submit("G1 X2")
    wire(proto)
    firmware(proto, "Error:checksum mismatch, Last Line: 1", "Resend: 2")
    assert not proto.learning_resend_ok  # no waiting any more
    assert [line.split("*")[0] for line in wire(proto)] == ["N2 G1 X2"]
    assert acked(firmware(proto, "ok")) == []  # the Resend's own ok
    assert acked(firmware(proto, "ok")) == ["G1 X2"]


def test_replay_is_released_when_no_line_follows_resend() -> None:
    proto = make()
    proto.submit("G1 X1")
    wire(proto)
    firmware(proto, "Error:checksum mismatch, Last Line: 0", "Resend: 1")
    proto.resend_ok_absent()  # the owner's short timer fired
    assert [line.split("*")[0] for line in wire(proto)] == ["N1 G1 X1"]
    assert acked(firmware(proto, "ok")) == ["G1 X1"]


def test_rs_form_of_resend_is_understood() -> None:
    proto = make()
    proto.submit("G1 X1")
    wire(proto)
    assert resends(firmware(proto, "rs N1", "ok")) == [(1, False)]
    assert [line.split("*")[0] for line in wire(proto)] == ["N1 G1 X1"]


def test_a_line_refused_too_often_is_abandoned_and_the_stream_goes_on() -> None:
    # A line the firmware cannot take (cut by its buffer, a byte its reader drops) is
    # refused every time: after max_resends_per_line an M105 takes its number, the
    # line's owner gets the failure, and the lines after it go on.
    proto = make(max_resends_per_line=3)
    proto.submit("G1 X1", owner="first")
    abandoned = []
    for _ in range(4):
        wire(proto)
        events = firmware(proto, "Error:checksum mismatch, Last Line: 0", "Resend: 1", "ok")
        assert of(events, ProtocolFailure) == []
        abandoned += of(events, LineAbandoned)
    assert [(a.n, a.command, a.owner) for a in abandoned] == [(1, "G1 X1", "first")]
    assert "refused line 1 3 times" in abandoned[0].message
    sent = wire(proto)
    assert [line.split("*")[0] for line in sent] == ["N1 M105"]
    (ack,) = of(firmware(proto, "ok T:20.0 /0.0"), CommandAcknowledged)
    assert (ack.n, ack.owner, ack.error) == (1, "first", abandoned[0].message)
    assert proto.submit("G1 X2")
    assert [line.split("*")[0] for line in wire(proto)] == ["N2 G1 X2"]


def test_an_abandoned_lines_owner_sends_nothing_after_it_and_other_owners_go_on() -> None:
    # The firmware ran none of the lines after the one it keeps asking for: the owner's
    # later lines (the rest of a print's window) become M105s, another owner's line
    # (a console command sent meanwhile) still runs.
    proto = make(max_resends_per_line=2)
    advanced(proto)
    for command, owner in (("G1 X1", "print"), ("G1 X2", "print"), ("M117 hi", "console"),
                           ("G1 X3", "print")):
        assert proto.submit(command, owner=owner)
    assert len(wire(proto)) == 4
    abandoned = []
    refusal = ("Error:checksum mismatch, Last Line: 0", "Resend: 1", "ok")
    for _ in range(3):
        # N1 refused, then each line after it meets the same request (the echoes)
        events = firmware(proto, *refusal * 4)
        abandoned += of(events, LineAbandoned)
        sent = wire(proto)
    assert [(a.n, a.owner) for a in abandoned] == [(1, "print")]
    assert [line.split("*")[0] for line in sent] == ["N1 M105"]
    acks = of(firmware(proto, "ok N1 P15 B3"), CommandAcknowledged)
    replayed: list[str] = []
    while len(replayed) < 3:
        sent = [line.split("*")[0] for line in wire(proto)]
        assert sent, "nothing more was sent"
        replayed += sent
        oks = (f"ok {line.split()[0]} P15 B3" for line in sent)
        acks += of(firmware(proto, *oks), CommandAcknowledged)
    assert replayed == ["N2 M105", "N3 M117 hi", "N4 M105"]
    assert [(a.n, a.owner, a.error is not None) for a in acks] == [
        (1, "print", True), (2, "print", False), (3, "console", False), (4, "print", False)]


def test_a_bare_m105_refused_too_often_is_a_failure() -> None:
    # Even the stand-in M105 is refused: the link itself is broken.
    proto = make(max_resends_per_line=3)
    proto.submit("G1 X1")
    failures = []
    for _ in range(8):
        wire(proto)
        events = firmware(proto, "Error:checksum mismatch, Last Line: 0", "Resend: 1", "ok")
        failures += of(events, ProtocolFailure)
        if failures:
            break
    assert len(failures) == 1
    assert "line 1 was refused 3 times" in failures[0].message


def test_resend_of_a_line_never_sent_is_a_failure() -> None:
    proto = make()
    proto.submit("G1 X1")
    wire(proto)
    (failure,) = of(firmware(proto, "Resend: 57", "ok"), ProtocolFailure)
    assert "57" in failure.message


def test_resend_during_m110_replays_m110_whatever_the_firmware_counter() -> None:
    # A firmware still counting from an earlier session asks for its N+1.
    proto = make()
    proto.submit("M110 N0")
    wire(proto)
    events = firmware(proto, "Error:checksum mismatch, Last Line: 5000", "Resend: 5001", "ok")
    assert resends(events) == [(5001, False)]
    assert wire(proto) == ["N1 M110 N0*124"]


def test_lost_ok_is_recovered_by_retransmission() -> None:
    # The ok for N1 never arrives. The owner's silence timer retransmits N1;
    # the firmware refuses the copy and asks for N2: N1 was done.
    proto = make()
    proto.submit("G1 X1")
    wire(proto)
    assert proto.retransmit()
    assert [line.split("*")[0] for line in wire(proto)] == ["N1 G1 X1"]
    events = firmware(
        proto, "Error:Line Number is not Last Line Number+1, Last Line: 1", "Resend: 2", "ok"
    )
    assert acked(events) == ["G1 X1"]
    proto.submit("G1 X2")
    assert [line.split("*")[0] for line in wire(proto)] == ["N2 G1 X2"]
    assert acked(firmware(proto, "ok")) == ["G1 X2"]


def test_retransmitted_copy_of_a_slow_line_is_harmless() -> None:
    # N1 was just slow: its ok comes first, then the refusal of the copy.
    proto = make()
    proto.submit("G28")
    wire(proto)
    proto.retransmit()
    wire(proto)
    events = firmware(
        proto,
        "ok",
        "Error:Line Number is not Last Line Number+1, Last Line: 1",
        "Resend: 2",
        "ok",
    )
    assert acked(events) == ["G28"]
    assert resends(events) == [(2, True)]
    assert wire(proto) == []


def test_wait_while_lines_are_in_flight_retransmits() -> None:
    proto = make()
    proto.submit("G1 X1")
    wire(proto)
    firmware(proto, "wait")
    assert [line.split("*")[0] for line in wire(proto)] == ["N1 G1 X1"]


def test_firmware_start_forgets_everything_in_flight() -> None:
    proto = make()
    advanced(proto)
    submit_all(proto, "G1 X1", "G1 X2")
    wire(proto)
    events = firmware(proto, "start", "echo:External Reset", "Marlin 2.1.2.1")
    assert of(events, FirmwareStarted) == [FirmwareStarted()]
    assert proto.in_flight == 0 and proto.pending == 0
    assert acked(firmware(proto, "ok N1 P15 B3")) == []
    proto.submit("M110 N0")
    assert wire(proto) == ["N1 M110 N0*124"]


def test_out_of_band_command_is_unnumbered_and_its_ok_is_not_a_numbered_ack() -> None:
    proto = make()
    proto.submit("M109 S200")
    wire(proto)
    assert proto.send_unnumbered("M108") == b"M108\n"
    events = firmware(proto, "ok")  # M109 finishes
    assert acked(events) == ["M109 S200"]
    firmware(proto, "ok")  # M108's own ok
    proto.submit("G28")
    wire(proto)
    assert acked(firmware(proto, "ok")) == ["G28"]


def test_out_of_band_ok_under_advanced_ok_acknowledges_nothing_numbered() -> None:
    proto = make()
    advanced(proto)
    submit_all(proto, "G1 X1")
    wire(proto)
    proto.send_unnumbered("M876 S0")
    assert acked(firmware(proto, "ok P15 B3")) == []
    assert acked(firmware(proto, "ok N1 P15 B3")) == ["G1 X1"]


def test_m112_out_of_band_expects_no_ok() -> None:
    proto = make()
    proto.submit("G28")
    wire(proto)
    proto.send_unnumbered("M112")
    assert proto.in_flight == 1
