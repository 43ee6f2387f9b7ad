"""Typed events produced by the host-link protocol engine (and the link).

Every event is an immutable msgspec Struct. Listeners dispatch on the class.
"""

from __future__ import annotations

import enum

import msgspec


class Event(msgspec.Struct, frozen=True):
    """Base class of every host-link event."""


class LineReceived(Event, frozen=True):
    """Any complete line from the firmware, verbatim (for a console)."""

    text: str


class LineSent(Event, frozen=True):
    """A line written to the firmware (``n`` is None for out-of-band lines)."""

    n: int | None
    command: str
    resend: bool = False


class CommandAcknowledged(Event, frozen=True):
    """The firmware's ``ok`` for one submitted line.

    ``replies`` holds the solicited lines that came between the previous ``ok``
    and this one; ``error`` the firmware's error text if the command failed
    (``Unknown command``, an unclassified ``Error:``). ``owner``/``tag`` are the
    values given to :meth:`MarlinProtocol.submit`.
    """

    n: int | None
    command: str
    owner: object
    tag: int
    replies: tuple[str, ...]
    error: str | None


class ResendRequested(Event, frozen=True):
    """``Resend: N`` / ``rs N``. ``ignored`` when it was a late echo of an
    error for lines the firmware had already discarded."""

    line: int
    ignored: bool


class HeaterReading(msgspec.Struct, frozen=True):
    actual: float
    target: float | None = None
    power: int | None = None


class TemperatureReport(Event, frozen=True):
    """``T:`` ``T0:``..``Tn:`` ``B:`` ``C:`` ... readings keyed by sensor name.

    ``T`` is the active tool; ``@``/``B@``/``C@``/``@<n>`` powers are folded
    into the matching sensor. ``solicited`` is True for an ``ok T:`` reply.
    """

    sensors: dict[str, HeaterReading]
    solicited: bool


class PositionReport(Event, frozen=True):
    """``X:.. Y:.. Z:.. E:.. Count X:.. Y:.. Z:..`` (M114 or M154 auto-report)."""

    axes: dict[str, float]
    counts: dict[str, int]


class Busy(Event, frozen=True):
    """``echo:busy: processing`` / ``busy: paused for user`` (reason text)."""

    reason: str


class FirmwareWaiting(Event, frozen=True):
    """``wait``: the firmware's command buffer is empty."""


class EchoMessage(Event, frozen=True):
    """An ``echo:`` line (text after the prefix); ``command`` is the command the
    firmware was working on when it came (None when nothing was in flight)."""

    text: str
    command: str | None = None


class ErrorKind(enum.Enum):
    LINE = "line"  # checksum / line number: handled by a resend
    COMMAND = "command"  # the current command failed (unknown command, ...)
    HALT = "halt"  # firmware halted or stopped: needs a reset / M999


class FirmwareError(Event, frozen=True):
    """An ``Error:`` (or ``!!``/``echo:Unknown command``) line, classified.
    ``last_line``: the firmware's last accepted line number, which line errors name."""

    message: str
    kind: ErrorKind
    last_line: int | None = None


class FirmwareStarted(Event, frozen=True):
    """``start``: the firmware (re)booted; everything in flight is lost."""


class ActionCommand(Event, frozen=True):
    """``//action:<name> <argument>`` host action command."""

    name: str
    argument: str


class PromptShown(Event, frozen=True):
    """A complete ``prompt_begin`` .. ``prompt_show`` dialog.

    Answer with ``M876 S<index>`` where index counts ``choices`` in order.
    """

    message: str
    choices: tuple[str, ...]


class PromptClosed(Event, frozen=True):
    """``//action:prompt_end``."""


class FirmwareInfo(Event, frozen=True):
    """The M115 ``FIRMWARE_NAME:... SOURCE_CODE_URL:... ...`` line as fields."""

    fields: dict[str, str]

    @property
    def name(self) -> str:
        return self.fields.get("FIRMWARE_NAME", "")


class CapabilityReport(Event, frozen=True):
    """One M115 ``Cap:NAME:0|1`` line."""

    name: str
    enabled: bool


class SdStatus(Event, frozen=True):
    """``SD printing byte 123/4567`` or ``Not SD printing``."""

    printing: bool
    position: int | None = None
    size: int | None = None


class SdFileOpened(Event, frozen=True):
    """M23's ``File opened: NAME.GCO Size: 1234``: the file an M24 will print."""

    name: str
    size: int


class SdPrintDone(Event, frozen=True):
    """``Done printing file``: the firmware finished printing from its SD card."""


class SdCardChanged(Event, frozen=True):
    """The firmware's SD card messages: ``SD card ok`` / ``SD card inserted`` (present),
    ``SD card released`` / ``removed`` / ``SD init fail`` / ``No SD card`` (not)."""

    present: bool
    message: str


class MeatPackState(Event, frozen=True):
    """``[MP] PV01 ON NSP``: the firmware's MeatPack decoder state, reported after
    each MeatPack command."""

    active: bool
    no_spaces: bool


class MeatPackStopped(Event, frozen=True):
    """The host went back to plain text because packed lines kept failing."""

    reason: str


class SdFile(msgspec.Struct, frozen=True):
    name: str
    size: int | None = None
    long_name: str | None = None


class SdFileList(Event, frozen=True):
    """Everything between ``Begin file list`` and ``End file list``."""

    files: tuple[SdFile, ...]


class MachineLimits(Event, frozen=True):
    """Axis ranges the firmware reports: its soft endstops (``M211``:
    ``Soft endstops: On  Min:  X0.00 Y0.00 Z0.00   Max:  X235.00 ...``) or the build
    area of ``M115`` (``area:{full:{min:{x:..},max:{..}},work:{..}}``)."""

    minimum: tuple[float, float, float]
    maximum: tuple[float, float, float]
    source: str  # "soft_endstops" | "build_area"
    enabled: bool = True


class SettingReport(Event, frozen=True):
    """One setting of an M503 report (`echo:  M206 X0.00 Y0.00 Z0.00`): the command
    that would set it and its numeric words."""

    command: str
    words: dict[str, float]


class LineAbandoned(Event, frozen=True):
    """The firmware refused line ``n`` ``max_resends_per_line`` times in a row (a line it
    cannot take: longer than its buffer, a character its reader drops). The line was not
    run: an M105 takes its number so the stream goes on, and its owner gets ``message``
    as the command's error when that M105 is acknowledged."""

    n: int
    command: str
    owner: object
    message: str


class ProtocolFailure(Event, frozen=True):
    """The engine cannot continue the stream (resend limit, lost history)."""

    message: str
