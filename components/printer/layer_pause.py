"""SET_PAUSE_NEXT_LAYER / SET_PAUSE_AT_LAYER, as mainsail-config's macros offer them to
Mainsail's and Fluidd's "pause at layer" dialogs: at the start of a layer the print
pauses (MACRO=PAUSE) or the firmware's filament change runs (MACRO=M600).

The settings live where those dialogs read them: the `gcode_macro SET_PRINT_STATS_INFO`
object's `pause_next_layer` and `pause_at_layer`. The check runs as the print file is
read, at the layer's marker, so nothing of the new layer is sent before the pause."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from components.printer.params import Params

OBJECT = "gcode_macro SET_PRINT_STATS_INFO"


def initial_status() -> dict[str, Any]:
    return {"pause_next_layer": {"enable": False, "call": "PAUSE"},
            "pause_at_layer": {"enable": False, "layer": 0, "call": "PAUSE"}}


class LayerFilter(Protocol):
    def queue_call(self, line: str) -> None: ...


class LayerPause:
    def __init__(self, update: Callable[[str, Mapping[str, Any]], None]) -> None:
        self.update = update
        self.next_layer = {"enable": False, "call": "PAUSE"}
        self.at_layer: dict[str, Any] = {"enable": False, "layer": 0, "call": "PAUSE"}
        self._last_layer: int | None = None

    def _publish(self) -> None:
        self.update(OBJECT, {"pause_next_layer": dict(self.next_layer),
                             "pause_at_layer": dict(self.at_layer)})

    def set_next_layer(self, params: Params, _: object = None) -> list[str]:
        self.next_layer = {"enable": params.get_flag("ENABLE") if "ENABLE" in params
                           else True,
                           "call": params.get("MACRO", "PAUSE").upper()}
        self._publish()
        return []

    def set_at_layer(self, params: Params, _: object = None) -> list[str]:
        enable = params.get_flag("ENABLE") if "ENABLE" in params else True
        layer = params.get_int("LAYER", int(self.at_layer["layer"]), minval=0)
        if enable and "LAYER" not in params and not self.at_layer["layer"]:
            raise params.error("missing LAYER")
        self.at_layer = {"enable": enable and layer > 0, "layer": layer,
                         "call": params.get("MACRO", "PAUSE").upper()}
        self._publish()
        return []

    def on_layer(self, layer: int, stream: LayerFilter) -> None:
        """A layer's marker was read (`stream` is the print's StreamFilter)."""
        if layer == self._last_layer:
            return
        self._last_layer = layer
        calls = []
        if self.next_layer["enable"]:
            calls.append(str(self.next_layer["call"]))
            self.next_layer = {**self.next_layer, "enable": False}
        if self.at_layer["enable"] and layer == self.at_layer["layer"]:
            calls.append(str(self.at_layer["call"]))
            self.at_layer = {**self.at_layer, "enable": False}
        if calls:
            self._publish()
            for call in dict.fromkeys(calls):
                stream.queue_call(call)

    def print_started(self) -> None:
        self._last_layer = None
