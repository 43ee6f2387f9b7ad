"""What other components may rely on from the printer component (`server.components
["printer"]`), and the events it emits. Call through these, never into internals.

Events (server.events):
  printer:state_changed(state: str, message: str)
      state is the `webhooks.state`: "startup" | "ready" | "error" | "shutdown", or
      "disconnected" when the serial link is down.
  printer:gcode_command(script: str)        a script sent from the console or an API
  printer:gcode_response(line: str)         every firmware line and our own "// " messages
  job:started(filename: str)                 a print began (filename relative to gcodes;
                                             "sd:<name>" for the printer's own SD card)
  job:paused(filename: str) / job:resumed(filename: str)
  job:finished(filename: str, status: str, stats: dict)
      status: "completed" | "cancelled" | "error" | "klippy_shutdown";
      stats: {"print_duration", "total_duration", "filament_used", "message"}
  job:ended(filename: str)                   after job:finished, always
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, Protocol, runtime_checkable

# a host-side command typed in the console or sent by a macro, e.g. SET_LED LED=x RED=1:
# the handler gets the command name and its KEY=VALUE parameters (keys upper-cased)
CommandHandler = Callable[[str, dict[str, str]], Awaitable[None] | None]


@runtime_checkable
class PrinterApi(Protocol):
    @property
    def state(self) -> str:
        """webhooks.state, or "disconnected"."""

    def query_status(
        self, objects: Mapping[str, Iterable[str] | None]
    ) -> dict[str, dict[str, Any]]:
        """Current values, as printer.objects.query's "status"."""

    async def run_gcode(self, script: str) -> None:
        """Run G-code (and host commands/macros) like printer.gcode.script: returns once
        executed; raises gateway.errors.ServerError with the firmware's message."""

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

    def add_object(self, name: str, fields: dict[str, Any]) -> None:
        """Publish a Klipper-style object (e.g. "neopixel status", "bed_mesh")."""

    def update_object(self, name: str, fields: Mapping[str, Any]) -> None:
        """Change fields of an object added with add_object; subscribers get the diff."""

    def respond(self, line: str) -> None:
        """Show a line in the console (and the gcode store), e.g. "// Mesh saved"."""

    def add_config_section(
        self, name: str, config: dict[str, str], settings: dict[str, Any]
    ) -> None:
        """List a section in `configfile` (raw strings and typed settings), as Klipper
        lists every printer.cfg section; frontends look for some (bed_mesh, neopixel)."""
