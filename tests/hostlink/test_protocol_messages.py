"""Classification and parsing of every kind of firmware line."""

from __future__ import annotations

import pytest

from gateway.hostlink.protocol import (
    ActionCommand,
    Busy,
    CapabilityReport,
    CommandAcknowledged,
    EchoMessage,
    ErrorKind,
    FirmwareError,
    FirmwareInfo,
    FirmwareStarted,
    FirmwareWaiting,
    HeaterReading,
    LineReceived,
    PositionReport,
    PromptClosed,
    PromptShown,
    SdFile,
    SdFileList,
    SdStatus,
    TemperatureReport,
)

from .proto_util import firmware, make, of, wire


def test_temperature_auto_report_single_extruder() -> None:
    (report,) = of(
        firmware(make(), " T:210.00 /210.00 B:60.00 /60.00 @:127 B@:0"), TemperatureReport
    )
    assert not report.solicited
    assert report.sensors == {
        "T": HeaterReading(210.0, 210.0, 127),
        "B": HeaterReading(60.0, 60.0, 0),
    }


def test_temperature_report_with_several_tools_and_chamber() -> None:
    line = (
        "T:200.0 /200.0 B:55.5 /60.0 C:30.2 /0.0 T0:200.0 /200.0 T1:25.3 /0.0 "
        "@:90 B@:127 C@:0 @0:90 @1:0"
    )
    (report,) = of(firmware(make(), line), TemperatureReport)
    assert report.sensors["T0"] == HeaterReading(200.0, 200.0, 90)
    assert report.sensors["T1"] == HeaterReading(25.3, 0.0, 0)
    assert report.sensors["C"] == HeaterReading(30.2, 0.0, 0)
    assert report.sensors["B"].power == 127


def test_heating_progress_line_ignores_remaining_wait() -> None:
    (report,) = of(
        firmware(make(), " T:201.23 /210.00 B:59.81 /60.00 @:127 B@:0 W:?"), TemperatureReport
    )
    assert set(report.sensors) == {"T", "B"}
    (report,) = of(
        firmware(make(), " T:209.50 /210.00 B:60.00 /60.00 @:40 B@:0 W:9"), TemperatureReport
    )
    assert set(report.sensors) == {"T", "B"}


def test_temperature_with_raw_adc_values() -> None:
    (report,) = of(
        firmware(make(), "T:23.59 /0.00 (3976.0000) B:22.87 /0.00 (3992.0000) @:0 B@:0"),
        TemperatureReport,
    )
    assert report.sensors["T"].actual == 23.59
    assert report.sensors["B"].actual == 22.87


def test_temperature_report_while_busy_is_not_a_reply() -> None:
    proto = make()
    proto.submit("M190 S60")
    wire(proto)
    events = firmware(
        proto, " T:25.0 /0.0 B:40.2 /60.0 @:0 B@:127 W:?", "echo:busy: processing", "ok"
    )
    assert of(events, CommandAcknowledged)[0].replies == ()
    assert of(events, TemperatureReport)[0].sensors["B"].target == 60.0


def test_position_report_with_step_counts() -> None:
    (pos,) = of(
        firmware(make(), "X:10.00 Y:20.50 Z:0.30 E:1.25 Count X:800 Y:1640 Z:120"), PositionReport
    )
    assert pos.axes == {"X": 10.0, "Y": 20.5, "Z": 0.3, "E": 1.25}
    assert pos.counts == {"X": 800, "Y": 1640, "Z": 120}


def test_position_auto_report_without_counts() -> None:
    (pos,) = of(firmware(make(), "X:-1.50 Y:0.00 Z:5.00 E:0.00"), PositionReport)
    assert pos.axes["X"] == -1.5 and pos.counts == {}


def test_m115_firmware_info_and_capabilities() -> None:
    proto = make()
    proto.submit("M115")
    wire(proto)
    events = firmware(
        proto,
        "FIRMWARE_NAME:Marlin 2.1.2.1 (Feb  1 2024 12:00:00) "
        "SOURCE_CODE_URL:github.com/MarlinFirmware/Marlin "
        "PROTOCOL_VERSION:1.0 MACHINE_TYPE:Ender-3 V2 EXTRUDER_COUNT:1 "
        "UUID:cede2a2f-41a2-4748-9b12-c55c62f367ff",
        "Cap:SERIAL_XON_XOFF:0",
        "Cap:AUTOREPORT_TEMP:1",
        "Cap:EMERGENCY_PARSER:1",
        "ok",
    )
    (info,) = of(events, FirmwareInfo)
    assert info.name == "Marlin 2.1.2.1 (Feb  1 2024 12:00:00)"
    assert info.fields["SOURCE_CODE_URL"] == "github.com/MarlinFirmware/Marlin"
    assert info.fields["MACHINE_TYPE"] == "Ender-3 V2"
    assert info.fields["EXTRUDER_COUNT"] == "1"
    assert info.fields["UUID"] == "cede2a2f-41a2-4748-9b12-c55c62f367ff"
    assert of(events, CapabilityReport) == [
        CapabilityReport("SERIAL_XON_XOFF", False),
        CapabilityReport("AUTOREPORT_TEMP", True),
        CapabilityReport("EMERGENCY_PARSER", True),
    ]
    assert len(of(events, CommandAcknowledged)[0].replies) == 4


def test_sd_print_status_reply_and_auto_report() -> None:
    proto = make()
    proto.submit("M27")
    wire(proto)
    events = firmware(proto, "SD printing byte 123/4567", "ok")
    assert of(events, SdStatus) == [SdStatus(True, 123, 4567)]
    assert of(events, CommandAcknowledged)[0].replies == ("SD printing byte 123/4567",)
    assert of(firmware(proto, "Not SD printing"), SdStatus) == [SdStatus(False)]


def test_sd_file_list_between_begin_and_end() -> None:
    proto = make()
    proto.submit("M20 L")
    wire(proto)
    events = firmware(
        proto,
        "Begin file list",
        "CUBE~1.GCO 12345 Cube Print.gcode",
        "/FOLDER/PART.GCO 99",
        "End file list",
        "ok",
    )
    (listing,) = of(events, SdFileList)
    assert listing.files == (
        SdFile("CUBE~1.GCO", 12345, "Cube Print.gcode"),
        SdFile("/FOLDER/PART.GCO", 99, None),
    )
    assert len(of(events, CommandAcknowledged)[0].replies) == 4


@pytest.mark.parametrize("name", ["pause", "resume", "cancel", "paused", "resumed"])
def test_host_action_commands(name: str) -> None:
    assert of(firmware(make(), f"//action:{name}"), ActionCommand) == [ActionCommand(name, "")]


def test_action_command_with_argument() -> None:
    events = firmware(make(), "//action:notification Filament runout T0")
    assert of(events, ActionCommand) == [ActionCommand("notification", "Filament runout T0")]


def test_prompt_dialog_is_assembled_and_shown() -> None:
    events = firmware(
        make(),
        "//action:prompt_end",
        "//action:prompt_begin Filament runout",
        "//action:prompt_choice Purge more",
        "//action:prompt_button Continue",
        "//action:prompt_show",
    )
    assert of(events, PromptShown) == [PromptShown("Filament runout", ("Purge more", "Continue"))]
    assert of(firmware(make(), "//action:prompt_end"), PromptClosed) == [PromptClosed()]


def test_echo_messages_and_busy_variants() -> None:
    events = firmware(
        make(),
        "echo:SD card ok",
        "echo:busy: processing",
        "busy: paused for user",
        "echo:busy: paused for input",
    )
    assert of(events, EchoMessage) == [EchoMessage("SD card ok")]
    assert of(events, Busy) == [
        Busy("processing"),
        Busy("paused for user"),
        Busy("paused for input"),
    ]


def test_start_and_wait() -> None:
    assert of(firmware(make(), "start"), FirmwareStarted) == [FirmwareStarted()]
    assert of(firmware(make(), "wait"), FirmwareWaiting) == [FirmwareWaiting()]


@pytest.mark.parametrize(
    "line",
    [
        "Error:checksum mismatch, Last Line: 41",
        "Error:Line Number is not Last Line Number+1, Last Line: 41",
        "Error:No Checksum with line number, Last Line: 41",
        "Error:No Line Number with checksum, Last Line: 41",
    ],
)
def test_line_errors_are_recoverable(line: str) -> None:
    (error,) = of(firmware(make(), line), FirmwareError)
    assert error.kind is ErrorKind.LINE


@pytest.mark.parametrize(
    "line",
    [
        "Error:Printer halted. kill() called!",
        "Error:MAXTEMP triggered, system stopped! Heater_ID: 0",
        "Error:MINTEMP triggered, system stopped! Heater_ID: bed",
        "Error:Thermal Runaway, system stopped! Heater_ID: 0",
        "Error:Heating failed, system stopped! Heater_ID: 0",
        "Error:Printer stopped due to errors. Fix the error and use M999 to restart. "
        "(Temperature is reset. Set it after restarting)",
        "!! Printer halted. kill() called!",
    ],
)
def test_halt_errors_are_classified_as_halts(line: str) -> None:
    (error,) = of(firmware(make(), line), FirmwareError)
    assert error.kind is ErrorKind.HALT


def test_unknown_command_error_line_is_recoverable() -> None:
    (error,) = of(firmware(make(), 'Error:Unknown command: "M9999"'), FirmwareError)
    assert error.kind is ErrorKind.COMMAND


def test_lines_split_across_reads_and_crlf_endings() -> None:
    proto = make()
    proto.submit("M105")
    wire(proto)
    proto.events()
    proto.feed(b"ok T:20")
    assert proto.events() == []
    proto.feed(b".0 /0.0 @:0\r\n")
    events = proto.events()
    assert of(events, LineReceived) == [LineReceived("ok T:20.0 /0.0 @:0")]
    assert of(events, CommandAcknowledged)[0].command == "M105"


def test_garbage_bytes_do_not_break_parsing() -> None:
    events = firmware(make(), "\x00\xff\xfestart")
    assert of(events, FirmwareStarted) == []
    assert of(firmware(make(), "start"), FirmwareStarted) == [FirmwareStarted()]
