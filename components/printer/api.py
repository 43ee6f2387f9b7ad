"""What other components may rely on from the printer component, and the events it
emits. `server.lookup(PrinterApi)`; call through it, never into internals.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import NamedTuple, Protocol, runtime_checkable

import msgspec

from gateway.errors import BadRequest
from gateway.events import BusEvent

# the protocol's mesh, as read_mesh returns it (published here: no component outside
# the printer imports gateway.hostlink)
from gateway.hostlink.protocol.mesh import Matrix
from gateway.hostlink.protocol.mesh import MeshReport as MeshReport

MeshMatrix = Matrix

# a host-side command typed in the console or sent by a macro, e.g. SET_LED LED=x RED=1:
# the handler gets the command name and its KEY=VALUE parameters (keys upper-cased)
CommandHandler = Callable[[str, dict[str, str]], Awaitable[None] | None]


# -- events (server.events) ----------------------------------------------------------


class PrinterStateChanged(BusEvent, frozen=True):
    """`state` is `webhooks.state`: "startup" | "ready" | "error" | "shutdown", or
    "disconnected" while the serial link is down."""

    state: str
    message: str


class GcodeCommand(BusEvent, frozen=True):
    """A script sent from the console or an API."""

    script: str


class GcodeResponse(BusEvent, frozen=True):
    """Every firmware line, and our own "// " messages."""

    line: str


class JobStarted(BusEvent, frozen=True):
    """A print began: `filename` relative to gcodes ("sd:<name>" for a print from the
    printer's own SD card)."""

    filename: str


class JobPaused(BusEvent, frozen=True):
    filename: str


class JobResumed(BusEvent, frozen=True):
    filename: str


class JobFinished(BusEvent, frozen=True):
    """The print is over, with print_stats' figures at its end. `status` (history's):
    "completed" | "cancelled" | "error" | "klippy_shutdown"."""

    filename: str
    status: str
    print_duration: float = 0.0
    total_duration: float = 0.0
    filament_used: float = 0.0
    message: str = ""


class NotHomed(BadRequest):
    """read_mesh: the firmware refused to probe before the axes were homed."""


class SerialPort(NamedTuple):
    """Where the printer is connected ("virtual" for the built-in virtual printer)."""

    port: str
    baud: int


class SdCardFile(msgspec.Struct, frozen=True):
    """A file on the printer's own SD card: ``path`` selects it (the firmware's 8.3
    name), ``name`` is the long name when the firmware reports one."""

    path: str
    name: str
    size: int


class SdCardState(msgspec.Struct, frozen=True):
    """The printer's SD card as the firmware described it. ``listings`` counts the file
    listings received (it goes up when an M20 has been answered)."""

    ready: bool = False
    files: tuple[SdCardFile, ...] = ()
    listings: int = 0


# -- the interface -------------------------------------------------------------------


@runtime_checkable
class PrinterApi(Protocol):
    @property
    def state(self) -> str:
        """webhooks.state, or "disconnected"."""

    @property
    def serial_port(self) -> SerialPort:
        """The configured port and baud rate."""

    def query_status(
        self, objects: Mapping[str, Iterable[str] | None]
    ) -> dict[str, dict[str, object]]:
        """Current values, as printer.objects.query's "status"."""

    def has_capability(self, name: str) -> bool:
        """Whether the firmware reported `Cap:<name>:1` (M115), e.g. "SOFTWARE_POWER"."""

    async def run_gcode(self, script: str) -> None:
        """Run G-code (and host commands/macros) like printer.gcode.script: returns once
        executed; raises gateway.errors.ServerError with the firmware's message."""

    def check_gcode(self, script: str) -> None:
        """Refuse, before anything runs, a script that run_gcode would refuse for its
        text alone (a line too long for the firmware): gateway.errors.InvalidParams."""

    async def send_firmware(self, script: str) -> list[str]:
        """Firmware lines straight to the link (no host commands), with the firmware's
        replies; ServerError 503 while disconnected, 400 when the firmware refuses."""

    async def read_mesh(self, script: str) -> MeshReport | None:
        """Run `script` (G29, G29 T, M420 V, ...) like run_gcode and read the levelling
        mesh the firmware printed; None when it printed none (or declared it invalid);
        NotHomed when it asked for homing first."""

    async def power_supply_state(self) -> bool | None:
        """The PSU's state from `M80 S` (Marlin 2.0.9 and later with PSU_CONTROL); None
        when the firmware cannot tell (older firmware would switch it on instead)."""

    async def start_print(self, filename: str) -> None:
        """Start printing a file from the gcodes root; Conflict (409) if busy."""

    async def pause_print(self) -> None:
        """PAUSE (a host print or the printer's SD print); Conflict if not printing."""

    async def resume_print(self) -> None:
        """RESUME; Conflict if not paused."""

    async def cancel_print(self) -> None:
        """CANCEL_PRINT; Conflict if nothing to cancel."""

    async def connect(self) -> None:
        """Open the serial link (after disconnect)."""

    async def disconnect(self) -> None:
        """Close the serial link; Conflict while printing."""

    def register_command(self, name: str, handler: CommandHandler, description: str) -> None:
        """Add a host-side command (upper-case name) to the console and macros."""

    def unregister_command(self, name: str) -> None:
        """Remove a command added with register_command (an agent's remote method when
        the agent disconnects); unknown names are ignored."""

    def add_object(self, name: str, fields: dict[str, object]) -> None:
        """Publish a Klipper-style object (e.g. "neopixel status", "bed_mesh")."""

    def update_object(self, name: str, fields: Mapping[str, object]) -> None:
        """Change fields of an object added with add_object; subscribers get the diff."""

    def respond(self, line: str) -> None:
        """Show a line in the console (and the gcode store), e.g. "// Mesh saved"."""

    def sd_card(self) -> SdCardState:
        """The printer's own SD card: whether one is ready, and its last file listing
        (run M21 / M20 L with run_gcode to refresh them)."""

    def filament_extruded(self) -> float:
        """mm of filament the extruder has taken from the spool since the printer was
        connected: E moves past the highest E reached so far, so a retraction and its
        unretraction cancel; G92 does not change it, M221 flow applies (Spoolman)."""

    def add_config_section(
        self, name: str, config: dict[str, str], settings: dict[str, object]
    ) -> None:
        """List a section in `configfile` (raw strings and typed settings), as Klipper
        lists every printer.cfg section; frontends look for some (bed_mesh, neopixel)."""

    def temperature_sensors(self) -> Mapping[str, SensorReading] | None:
        """Current readings by Klipper object name (extruder, heater_bed, ...), or None
        while disconnected or before the first report."""


class SensorReading(Protocol):
    @property
    def temperature(self) -> float: ...

    @property
    def target(self) -> float | None: ...

    @property
    def power(self) -> float | None: ...
