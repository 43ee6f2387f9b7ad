"""server.gcode_store: the console's recent history (commands sent and firmware replies).

Fed by the printer component's events `printer:gcode_command(script)` and
`printer:gcode_response(line)`.
"""

from __future__ import annotations

import collections
import time
from typing import TYPE_CHECKING, Any

from gateway.component import BaseComponent
from gateway.errors import BadRequest
from gateway.request import Request

if TYPE_CHECKING:
    from gateway.app import Server

STORE_SIZE = 1000


class GcodeStore(BaseComponent):
    moonraker_names = ("data_store",)

    def __init__(self, server: Server) -> None:
        self.entries: collections.deque[dict[str, Any]] = collections.deque(maxlen=STORE_SIZE)
        server.events.subscribe("printer:gcode_command", self._command)
        server.events.subscribe("printer:gcode_response", self._response)
        server.register_endpoint(
            "server.gcode_store", self.get_store, http="GET /server/gcode_store"
        )

    def _command(self, script: str) -> None:
        self.entries.append({"message": script, "time": time.time(), "type": "command"})

    def _response(self, line: str) -> None:
        self.entries.append({"message": line, "time": time.time(), "type": "response"})

    def get_store(self, request: Request) -> dict[str, Any]:
        count = request.get_int("count", STORE_SIZE)
        if count < 0:
            raise BadRequest("Argument [count] must be zero or positive")
        entries = list(self.entries)
        return {"gcode_store": entries[len(entries) - count :] if count else []}


def load_component(server: Server) -> GcodeStore:
    return GcodeStore(server)
