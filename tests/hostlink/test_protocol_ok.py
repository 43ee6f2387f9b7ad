"""ok handling, reply pairing and flow control."""

from __future__ import annotations

from gateway.hostlink.protocol import (
    Busy,
    CommandAcknowledged,
    FirmwareError,
    PositionReport,
    TemperatureReport,
)

from .proto_util import acked, advanced, firmware, make, of, submit_all, wire


def test_plain_ok_acknowledges_the_oldest_line_with_its_replies() -> None:
    proto = make()
    proto.submit("M114", owner="me", tag=7)
    wire(proto)
    events = firmware(proto, "X:10.00 Y:20.00 Z:0.30 E:1.00 Count X:800 Y:1600 Z:120", "ok")
    (ack,) = of(events, CommandAcknowledged)
    assert (ack.n, ack.command, ack.owner, ack.tag) == (1, "M114", "me", 7)
    assert ack.replies == ("X:10.00 Y:20.00 Z:0.30 E:1.00 Count X:800 Y:1600 Z:120",)
    assert ack.error is None


def test_one_line_in_flight_until_advanced_ok_is_seen() -> None:
    proto = make()
    assert submit_all(proto, "G28", "G1 X1") == ["G28"]
    firmware(proto, "ok")
    assert submit_all(proto, "G1 X1", "G1 X2") == ["G1 X1"]


def test_advanced_ok_reply_puts_several_lines_in_flight() -> None:
    proto = make()
    advanced(proto)
    assert proto.advanced_ok_seen and proto.advanced_ok_in_use
    assert submit_all(proto, "G1 X1", "G1 X2", "G1 X3") == ["G1 X1", "G1 X2", "G1 X3"]


def test_advanced_ok_off_keeps_one_line_in_flight_even_when_the_firmware_has_it() -> None:
    proto = make(advanced_ok="off")
    advanced(proto)
    assert proto.advanced_ok_seen and not proto.advanced_ok_in_use
    assert submit_all(proto, "G1 X1", "G1 X2") == ["G1 X1"]


def test_advanced_ok_acknowledges_every_line_up_to_its_number() -> None:
    # The ok for N2 was lost on the wire; the ok for N3 covers it.
    proto = make()
    advanced(proto)
    submit_all(proto, "G1 X1", "G1 X2", "G1 X3")
    events = firmware(proto, "ok N1 P15 B3", "ok N3 P15 B3")
    assert acked(events) == ["G1 X1", "G1 X2", "G1 X3"]
    assert proto.in_flight == 0


def test_advanced_ok_for_an_already_acknowledged_line_is_ignored() -> None:
    proto = make()
    advanced(proto)
    submit_all(proto, "G1 X1", "G1 X2")
    firmware(proto, "ok N1 P15 B3")
    assert acked(firmware(proto, "ok N1 P15 B3")) == []
    assert acked(firmware(proto, "ok N2 P15 B3")) == ["G1 X2"]


def test_ok_with_temperatures_acknowledges_m105_and_reports_temperatures() -> None:
    proto = make()
    proto.submit("M105")
    wire(proto)
    events = firmware(proto, "ok T:210.5 /210.0 B:60.1 /60.0 @:64 B@:127")
    assert acked(events) == ["M105"]
    (report,) = of(events, TemperatureReport)
    assert report.solicited
    assert report.sensors["T"].actual == 210.5 and report.sensors["T"].power == 64
    assert report.sensors["B"].target == 60.0 and report.sensors["B"].power == 127


def test_ok_with_temperatures_under_advanced_ok_acknowledges_by_order() -> None:
    # Marlin's M105 prints its own "ok T:..." without N/P/B fields.
    proto = make()
    advanced(proto)
    submit_all(proto, "M105", "G1 X1")
    events = firmware(proto, "ok T:20.0 /0.0 B:20.0 /0.0 @:0 B@:0", "ok N2 P15 B3")
    assert acked(events) == ["M105", "G1 X1"]


def test_stray_ok_with_nothing_in_flight_is_ignored() -> None:
    proto = make()
    assert firmware(proto, "ok") == []
    proto.submit("G28")
    wire(proto)
    assert acked(firmware(proto, "ok")) == ["G28"]


def test_unsolicited_lines_are_never_replies() -> None:
    proto = make()
    proto.submit("G4 P100")
    wire(proto)
    events = firmware(
        proto,
        " T:200.1 /210.0 B:59.8 /60.0 @:127 B@:0",
        "echo:busy: processing",
        "X:1.00 Y:2.00 Z:3.00 E:0.00",
        "//action:notification Printing",
        "echo:SD card ok",
        "ok",
    )
    (ack,) = of(events, CommandAcknowledged)
    assert ack.replies == ()
    assert len(of(events, TemperatureReport)) == 1
    assert len(of(events, PositionReport)) == 1
    assert of(events, Busy) == [Busy("processing")]


def test_position_line_is_the_reply_of_m114() -> None:
    proto = make()
    proto.submit("M114")
    wire(proto)
    (ack,) = of(
        firmware(proto, "X:1.00 Y:2.00 Z:3.00 E:0.00 Count X:80 Y:160 Z:1200", "ok"),
        CommandAcknowledged,
    )
    assert ack.replies == ("X:1.00 Y:2.00 Z:3.00 E:0.00 Count X:80 Y:160 Z:1200",)


def test_other_lines_before_ok_are_the_commands_replies() -> None:
    proto = make()
    proto.submit("M119")
    wire(proto)
    events = firmware(proto, "Reporting endstop status", "x_min: open", "z_min: TRIGGERED", "ok")
    (ack,) = of(events, CommandAcknowledged)
    assert ack.replies == ("Reporting endstop status", "x_min: open", "z_min: TRIGGERED")


def test_unknown_command_fails_only_that_command() -> None:
    proto = make()
    proto.submit("G999")
    wire(proto)
    events = firmware(proto, 'echo:Unknown command: "G999"', "ok")
    (ack,) = of(events, CommandAcknowledged)
    assert ack.error == 'Unknown command: "G999"'
    proto.submit("G28")
    wire(proto)
    (ack,) = of(firmware(proto, "ok"), CommandAcknowledged)
    assert ack.error is None


def test_unclassified_error_line_fails_the_current_command() -> None:
    proto = make()
    proto.submit("G29")
    wire(proto)
    events = firmware(proto, "Error:Probing Failed", "ok")
    assert of(events, CommandAcknowledged)[0].error == "Probing Failed"
    assert of(events, FirmwareError)[0].message == "Probing Failed"


def test_busy_keepalive_does_not_acknowledge() -> None:
    proto = make()
    proto.submit("M109 S210")
    wire(proto)
    events = firmware(proto, "echo:busy: processing", "busy: paused for user")
    assert of(events, Busy) == [Busy("processing"), Busy("paused for user")]
    assert acked(events) == []
    assert proto.in_flight == 1


def test_bytes_in_flight_stay_within_the_rx_buffer() -> None:
    proto = make(advanced_ok="on", rx_buffer_size=64)
    cmd = "G1 X100.000 Y100.000 E1.00000"  # 37 bytes framed
    assert submit_all(proto, cmd, cmd, cmd) == [cmd]
    assert len(b"".join(line.encode() + b"\n" for line in wire(proto))) <= 64


def test_free_command_slots_let_more_lines_past_the_rx_estimate() -> None:
    # After "ok N1 P15 B1" the next two lines sit in the firmware's command
    # queue (BUFSIZE 4: 4-1-1 = 2 queued), so their bytes left the RX buffer.
    proto = make(rx_buffer_size=64)
    advanced(proto)
    cmd = "G1 X100.000 Y100.000 E1.00000"
    assert submit_all(proto, cmd) == [cmd]
    proto.data_to_send()
    proto.submit("G1 X1")
    proto.data_to_send()
    proto.submit("G1 X2")
    firmware(proto, "ok N1 P15 B1")
    assert proto.in_flight == 2
    assert submit_all(proto, cmd) == [cmd]


def test_long_line_is_sent_alone_even_if_bigger_than_rx_buffer() -> None:
    proto = make(advanced_ok="on", rx_buffer_size=32)
    long_cmd = "M117 " + "x" * 60
    assert proto.submit(long_cmd)
    assert not proto.submit("G1 X1")


def test_unknown_command_naming_a_torn_line_tail_is_not_the_commands_failure() -> None:
    proto = make()
    advanced(proto)
    submit_all(proto, "G1 X1")
    wire(proto)
    events = firmware(proto, 'echo:Unknown command: "12"', "ok P15 B3", "ok N1 P15 B3")
    (ack,) = of(events, CommandAcknowledged)
    assert ack.error is None
    assert of(events, FirmwareError)[0].kind.value == "line"
