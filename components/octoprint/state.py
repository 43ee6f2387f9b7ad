"""The printer as OctoPrint describes it, read from the printer component's one model
(`query_status`): state text and flags, temperatures.

Nothing here keeps printer state of its own; a `Snapshot` is one consistent reading.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from components.printer.api import PrinterApi

# print_stats.state values with a job on the printer ("cancelling": a cancel waits for
# the firmware to finish a long command)
ACTIVE = ("printing", "paused", "cancelling")


@dataclass(slots=True)
class Snapshot:
    link: str = "disconnected"  # the printer's webhooks.state, or "disconnected"
    message: str = ""
    print_state: str = "standby"
    filename: str = ""
    file_position: int = 0
    file_size: int = 0
    print_duration: float = 0.0
    # Klipper object name -> (actual, target)
    heaters: dict[str, tuple[float, float]] = field(default_factory=dict)
    position: list[float] = field(default_factory=list)
    settings: dict[str, object] = field(default_factory=dict)

    @property
    def operational(self) -> bool:
        return self.link == "ready"

    @property
    def active(self) -> bool:
        return self.operational and self.print_state in ACTIVE

    @property
    def printing(self) -> bool:
        return self.operational and self.print_state == "printing"

    @property
    def paused(self) -> bool:
        return self.operational and self.print_state == "paused"

    @property
    def from_sd(self) -> bool:
        return self.filename.startswith("sd:")

    @property
    def z(self) -> float | None:
        return self.position[2] if len(self.position) > 2 else None

    def tools(self) -> list[str]:
        return [name for name in self.heaters if name.startswith("extruder")]


def take(printer: PrinterApi | None, with_settings: bool = False) -> Snapshot:
    snap = Snapshot()
    if printer is None:
        return snap
    snap.link = printer.state
    objects: dict[str, list[str] | None] = {
        "webhooks": ["state_message"],
        "print_stats": ["state", "filename", "print_duration"],
        "virtual_sdcard": ["file_position", "file_size"],
        "heaters": ["available_heaters"],
        "gcode_move": ["gcode_position"],
    }
    if with_settings:
        objects["configfile"] = ["settings"]
    status = printer.query_status(objects)
    heaters = [str(h) for h in _items(status.get("heaters", {}).get("available_heaters"))]
    temps = printer.query_status({name: ["temperature", "target"] for name in heaters})
    stats = status.get("print_stats", {})
    sdcard = status.get("virtual_sdcard", {})
    snap.message = str(status.get("webhooks", {}).get("state_message", ""))
    snap.print_state = str(stats.get("state", "standby"))
    snap.filename = str(stats.get("filename") or "")
    snap.print_duration = _number(stats.get("print_duration"))
    snap.file_position = int(_number(sdcard.get("file_position")))
    snap.file_size = int(_number(sdcard.get("file_size")))
    snap.position = [_number(v) for v in _items(
        status.get("gcode_move", {}).get("gcode_position"))]
    settings = status.get("configfile", {}).get("settings")
    snap.settings = settings if isinstance(settings, dict) else {}
    for name in heaters:
        values = temps.get(name, {})
        snap.heaters[name] = (_number(values.get("temperature")),
                              _number(values.get("target")))
    return snap


def _number(value: object) -> float:
    """A status value as a number (None or anything else: 0)."""
    return float(value) if isinstance(value, int | float) else 0.0


def _items(value: object) -> list[object]:
    return value if isinstance(value, list) else []


@dataclass(slots=True)
class StateView:
    text: str
    state_id: str
    flags: dict[str, bool]
    error: str = ""

    def as_dict(self) -> dict[str, object]:
        return {"text": self.text, "flags": self.flags, "error": self.error}


def _flags(**on: bool) -> dict[str, bool]:
    names = ("operational", "printing", "cancelling", "pausing", "resuming", "finishing",
             "closedOrError", "error", "paused", "ready", "sdReady")
    return {name: bool(on.get(name, False)) for name in names}


def describe(snap: Snapshot, pending: str | None = None, sd_ready: bool = False) -> StateView:
    """OctoPrint's state string, its id (event payloads) and flags. `pending` names a
    job action of ours still under way: "pausing", "resuming" or "cancelling"."""
    if snap.link == "disconnected":
        return StateView("Offline", "OFFLINE", _flags(closedOrError=True))
    if snap.link == "startup":
        return StateView("Connecting", "CONNECTING", _flags())
    if snap.link in ("error", "shutdown"):
        return StateView("Offline after error", "CLOSED_WITH_ERROR",
                         _flags(closedOrError=True, error=True), snap.message)
    sd = {"sdReady": sd_ready}
    if (pending == "cancelling" or snap.print_state == "cancelling") and snap.active:
        return StateView("Cancelling", "CANCELLING",
                         _flags(operational=True, cancelling=True, **sd))
    if snap.printing:
        if pending == "pausing":
            return StateView("Pausing", "PAUSING", _flags(operational=True, pausing=True, **sd))
        text = "Printing from SD" if snap.from_sd else "Printing"
        return StateView(text, "PRINTING", _flags(operational=True, printing=True, **sd))
    if snap.paused:
        if pending == "resuming":
            return StateView("Resuming", "RESUMING",
                             _flags(operational=True, resuming=True, **sd))
        return StateView("Paused", "PAUSED", _flags(operational=True, paused=True, **sd))
    return StateView("Operational", "OPERATIONAL", _flags(operational=True, ready=True, **sd))


def tool_key(name: str) -> str | None:
    """Klipper heater object -> OctoPrint's key (tool0, tool1, bed)."""
    if name == "extruder":
        return "tool0"
    if name.startswith("extruder") and name[8:].isdigit():
        return f"tool{name[8:]}"
    if name == "heater_bed":
        return "bed"
    return None


def heater_name(key: str) -> str | None:
    """OctoPrint's tool{n} / bed -> the printer's object name."""
    if key == "bed":
        return "heater_bed"
    if key.startswith("tool") and key[4:].isdigit():
        index = int(key[4:])
        return "extruder" if index == 0 else f"extruder{index}"
    return None


def temperatures(snap: Snapshot, offsets: dict[str, int],
                 only: str | None = None) -> dict[str, dict[str, object]]:
    """{"tool0": {"actual", "target", "offset"}, "bed": {...}}; `only` = "tool" or "bed"."""
    out: dict[str, dict[str, object]] = {}
    for name, (actual, target) in snap.heaters.items():
        key = tool_key(name)
        if key is None or (only == "tool" and key == "bed") or (only == "bed" and key != "bed"):
            continue
        out[key] = {"actual": round(actual, 2), "target": float(target),
                    "offset": offsets.get(key, 0)}
    return out
