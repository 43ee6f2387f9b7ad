"""server.gcode_store: the console's recent history (commands sent and firmware replies).

Fed by the printer component's events GcodeCommand and GcodeResponse.
"""

from __future__ import annotations

import collections
import time
from typing import TYPE_CHECKING, Annotated

from msgspec import Meta

from components.printer.api import GcodeCommand, GcodeResponse
from gateway.component import BaseComponent, ComponentSpec
from gateway.registry import Params
from gateway.request import Request

if TYPE_CHECKING:
    from gateway.api import ServerApi

STORE_SIZE = 1000


class StoreArgs(Params):
    count: Annotated[int, Meta(ge=0)] = STORE_SIZE


class GcodeStore(BaseComponent):
    moonraker_names = ("data_store",)

    def __init__(self, server: ServerApi) -> None:
        self.entries: collections.deque[dict[str, object]] = collections.deque(maxlen=STORE_SIZE)
        server.events.subscribe(GcodeCommand, self._command)
        server.events.subscribe(GcodeResponse, self._response)
        server.register_endpoint(
            "server.gcode_store", self.get_store, params=StoreArgs,
            http="GET /server/gcode_store"
        )

    def _command(self, event: GcodeCommand) -> None:
        self.entries.append({"message": event.script, "time": time.time(), "type": "command"})

    def _response(self, event: GcodeResponse) -> None:
        self.entries.append({"message": event.line, "time": time.time(), "type": "response"})

    def get_store(self, args: StoreArgs, request: Request) -> dict[str, object]:
        entries = list(self.entries)
        # the newest `count`; all of them when the store holds fewer
        return {"gcode_store": entries[-args.count:] if args.count else []}


def load_component(server: ServerApi) -> GcodeStore:
    return GcodeStore(server)


COMPONENT = ComponentSpec(load_component, always=True)
