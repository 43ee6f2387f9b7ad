"""The firmware's machine limits and settings as typed events: M211's soft endstops,
M115's build area, M503's setting lines; echo lines name the command they came with."""

from __future__ import annotations

from gateway.hostlink.protocol import (
    CommandAcknowledged,
    EchoMessage,
    MachineLimits,
    SettingReport,
)

from .proto_util import firmware, make, of, wire


def test_m211_soft_endstops_one_line_and_two_lines() -> None:
    proto = make()
    proto.submit("M211")
    wire(proto)
    events = firmware(proto, "echo:Soft endstops: On  Min:  X0.00 Y-5.00 Z0.00   Max:  "
                             "X235.00 Y235.00 Z250.00", "ok")
    assert of(events, MachineLimits) == [
        MachineLimits((0.0, -5.0, 0.0), (235.0, 235.0, 250.0), "soft_endstops", True)]
    assert not of(events, EchoMessage)
    assert len(of(events, CommandAcknowledged)[0].replies) == 1
    # Marlin 2.1's report: the state on its own line, the ranges on the next
    events = firmware(make(), "echo:  M211 S0 ; OFF",
                      "echo:  Min:  X-2.00 Y0.00 Z0.00   Max:  X300.00 Y300.00 Z400.00")
    (limits,) = of(events, MachineLimits)
    assert limits.maximum == (300.0, 300.0, 400.0)


def test_m115_build_area() -> None:
    events = firmware(make(), "area:{full:{min:{x:0.000,y:0.000,z:0.000},"
                              "max:{x:235.000,y:235.000,z:250.000}},work:{min:{x:0.000,"
                              "y:0.000,z:0.000},max:{x:235.000,y:235.000,z:250.000}}}")
    assert of(events, MachineLimits) == [
        MachineLimits((0.0, 0.0, 0.0), (235.0, 235.0, 250.0), "build_area")]


def test_m503_setting_lines_and_comments() -> None:
    proto = make()
    proto.submit("M503")
    wire(proto)
    events = firmware(proto, "echo:; Maximum feedrates (units/s):",
                      "echo:  M203 X300.00 Y300.00 Z5.00 E25.00",
                      "echo:  M206 X0.00 Y0.00 Z-0.05", "echo:  M149 C ; Units in Celsius",
                      "ok")
    assert of(events, SettingReport) == [
        SettingReport("M203", {"X": 300.0, "Y": 300.0, "Z": 5.0, "E": 25.0}),
        SettingReport("M206", {"X": 0.0, "Y": 0.0, "Z": -0.05})]
    # the comment lines stay echo lines, naming the command they answer
    assert of(events, EchoMessage) == [
        EchoMessage("; Maximum feedrates (units/s):", "M503"),
        EchoMessage("  M149 C ; Units in Celsius", "M503")]
    assert of(firmware(make(), "echo:SD card ok"), EchoMessage) == [EchoMessage("SD card ok")]
