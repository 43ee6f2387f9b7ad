"""The parameters of the OctoPrint routes, declared once (gateway.params converts them at
the door). OctoPrint's command bodies (`{"command": "jog", ...}`) are tagged unions: the
`command` picks the declaration, an unknown one is a 400 naming it."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import UNSET, Meta, UnsetType, field

from gateway.registry import Params

Number = int | float
Text = Annotated[str, Meta(max_length=2048)]
Axis = Literal["x", "y", "z"]


class _Command(Params, tag_field="command"):
    pass


# -- /api/printer -------------------------------------------------------------------------


class HistoryArgs(Params):
    history: bool = False
    limit: Annotated[int, Meta(ge=0)] | None = None


class PrinterArgs(HistoryArgs):
    exclude: list[str] = []


class Jog(_Command, tag="jog"):
    x: float | None = None
    y: float | None = None
    z: float | None = None
    absolute: bool = False
    # mm/min; true or absent: the profile's speed, false: none given
    speed: float | bool | None = None


class Home(_Command, tag="home"):
    axes: Annotated[list[Axis], Meta(min_length=1)] = field(
        default_factory=lambda: ["x", "y", "z"])


class Feedrate(_Command, tag="feedrate"):
    # a percentage, or a float factor (1.1 = 110 %)
    factor: Number


PrintheadArgs = Jog | Home | Feedrate


class ToolTarget(_Command, tag="target"):
    targets: Annotated[dict[str, Number], Meta(min_length=1)]


class ToolOffset(_Command, tag="offset"):
    offsets: Annotated[dict[str, Number], Meta(min_length=1)]


class ToolSelect(_Command, tag="select"):
    tool: str


class ToolExtrude(_Command, tag="extrude"):
    amount: float
    speed: float | None = None


class ToolFlowrate(_Command, tag="flowrate"):
    factor: Number


ToolArgs = ToolTarget | ToolOffset | ToolSelect | ToolExtrude | ToolFlowrate


class BedTarget(_Command, tag="target"):
    target: Number


class BedOffset(_Command, tag="offset"):
    offset: Number


BedArgs = BedTarget | BedOffset


class SdInit(_Command, tag="init"):
    pass


class SdRefresh(_Command, tag="refresh"):
    pass


class SdRelease(_Command, tag="release"):
    pass


SdArgs = SdInit | SdRefresh | SdRelease


class CommandArgs(Params):
    command: str | None = None
    commands: list[str] | None = None
    script: str | None = None


# -- /api/job -----------------------------------------------------------------------------


class JobStart(_Command, tag="start"):
    pass


class JobRestart(_Command, tag="restart"):
    pass


class JobPause(_Command, tag="pause"):
    action: Literal["pause", "resume", "toggle"] = "toggle"


class JobCancel(_Command, tag="cancel"):
    pass


JobArgs = JobStart | JobRestart | JobPause | JobCancel


# -- /api/connection, /api/login, system, timelapse ---------------------------------------


class Connect(_Command, tag="connect"):
    port: str | None = None
    baudrate: int | None = None
    printer_profile: str | None = field(default=None, name="printerProfile")
    save: bool = False
    autoconnect: bool | None = None


class Disconnect(_Command, tag="disconnect"):
    pass


class FakeAck(_Command, tag="fake_ack"):
    pass


ConnectionArgs = Connect | Disconnect | FakeAck


class LoginArgs(Params):
    user: Text | None = None
    password: Text | None = field(default=None, name="pass")
    # absent with no body at all: a passive login
    passive: bool | None = None
    remember: bool = False


class SourceArgs(Params):
    source: str


class ActionArgs(SourceArgs, kw_only=True):
    action: str


class TimelapseArgs(Params):
    type: Literal["off", "zchange", "timed"] | None = None
    fps: Annotated[int, Meta(ge=1, le=120)] | None = None
    interval: Annotated[int, Meta(ge=1, le=3600)] | None = None


# -- /api/settings, /api/printerprofiles --------------------------------------------------


class AppearanceSettings(Params):
    name: Text | UnsetType = UNSET
    color: Text | UnsetType = UNSET


class WebcamSettings(Params):
    stream_url: Text | UnsetType = field(default=UNSET, name="streamUrl")
    snapshot_url: Text | UnsetType = field(default=UNSET, name="snapshotUrl")
    webcam_enabled: bool | UnsetType = field(default=UNSET, name="webcamEnabled")
    flip_h: bool | UnsetType = field(default=UNSET, name="flipH")
    flip_v: bool | UnsetType = field(default=UNSET, name="flipV")
    rotate90: bool | UnsetType = UNSET
    stream_ratio: Text | UnsetType = field(default=UNSET, name="streamRatio")


class SettingsArgs(Params):
    appearance: AppearanceSettings | None = None
    webcam: WebcamSettings | None = None


class ProfileArgs(Params):
    ident: str


# -- /api/files -----------------------------------------------------------------------------

Origin = Literal["local", "sdcard"]


class ListArgs(Params):
    recursive: bool = False


class OriginArgs(ListArgs, kw_only=True):
    origin: Origin


class EntryArgs(OriginArgs, kw_only=True):
    path: str


class _FileCommand(_Command):
    origin: Origin
    path: str


class FileSelect(_FileCommand, tag="select"):
    print: bool = False


class FileUnselect(_FileCommand, tag="unselect"):
    pass


class FileCopy(_FileCommand, tag="copy"):
    destination: Annotated[str, Meta(min_length=1)]


class FileMove(_FileCommand, tag="move"):
    destination: Annotated[str, Meta(min_length=1)]


class FileAnalyse(_FileCommand, tag="analyse"):
    pass


class FileSlice(_FileCommand, tag="slice"):
    pass


class FileUploadSd(_FileCommand, tag="uploadSd"):
    pass


FileCommandArgs = (FileSelect | FileUnselect | FileCopy | FileMove | FileAnalyse | FileSlice
                   | FileUploadSd)
