"""What the host refuses before the firmware sees it: heater targets above `max_temp`
and console moves outside the axis ranges, when those ranges are known.

An axis range is known from the config (any of [printer] x_min … z_max set), else from
the firmware: its soft endstops (M211) or the build area M115 reports. Defaults that
nobody set are shown in `toolhead` but never enforced: a wrong guess must not refuse
moves a bigger printer can make."""

from __future__ import annotations

from dataclasses import dataclass

from components.printer.config import PrinterSection
from gateway.hostlink.protocol import MachineLimits

AXIS_OPTIONS = ("x_min", "x_max", "y_min", "y_max", "z_min", "z_max")
# the firmware's ranges by trust: soft endstops are what Marlin enforces itself
_SOURCES = ("config", "soft_endstops", "build_area")


@dataclass(slots=True)
class AxisRange:
    minimum: tuple[float, float, float]
    maximum: tuple[float, float, float]
    source: str  # "config" | "soft_endstops" | "build_area" | "default"

    @property
    def enforced(self) -> bool:
        return self.source != "default"


def _config_range(cfg: PrinterSection, source: str) -> AxisRange:
    return AxisRange((cfg.x_min, cfg.y_min, cfg.z_min), (cfg.x_max, cfg.y_max, cfg.z_max),
                     source)


class Limits:
    def __init__(self, cfg: PrinterSection, configured: set[str]) -> None:
        self.cfg = cfg
        explicit = bool(configured & set(AXIS_OPTIONS))
        self.axes = _config_range(cfg, "config" if explicit else "default")
        self._reported: dict[str, AxisRange] = {}

    # -- axes --------------------------------------------------------------------------

    def on_firmware(self, event: MachineLimits) -> bool:
        """A range the firmware reported; True when the one in use changed."""
        if event.maximum[0] <= event.minimum[0] or event.maximum[1] <= event.minimum[1]:
            return False  # not a usable range
        self._reported[event.source] = AxisRange(event.minimum, event.maximum, event.source)
        return self._choose()

    def disagreement(self) -> str | None:
        """A warning when configured ranges differ from what the firmware reports (the
        frontends' G-code viewer and the move checks would use the wrong bed)."""
        if self.axes.source != "config" or not self._reported:
            return None
        source = "soft_endstops" if "soft_endstops" in self._reported else "build_area"
        firmware = self._reported[source]
        if (firmware.minimum, firmware.maximum) == (self.axes.minimum, self.axes.maximum):
            return None
        what = "soft endstops (M211)" if source == "soft_endstops" else "build area (M115)"
        return (f"[printer] axis ranges {self.axes.minimum}..{self.axes.maximum} differ "
                f"from the firmware's {what} {firmware.minimum}..{firmware.maximum}")

    def firmware_restarted(self) -> None:
        self._reported.clear()
        self._choose()

    def _choose(self) -> bool:
        if self.axes.source == "config":
            return False
        best = _config_range(self.cfg, "default")
        for source in _SOURCES[1:]:
            if source in self._reported:
                best = self._reported[source]
                break
        changed = best != self.axes
        self.axes = best
        return changed

    def move_error(self, target: list[float], moved: set[int]) -> str | None:
        """Klipper's message for a move ending outside the known range, else None."""
        if not self.axes.enforced:
            return None
        for axis in moved:
            if axis > 2:
                continue
            low, high = self.axes.minimum[axis], self.axes.maximum[axis]
            if not low - 1e-9 <= target[axis] <= high + 1e-9:
                x, y, z, e = target
                return f"Move out of range: {x:.3f} {y:.3f} {z:.3f} [{e:.3f}]"
        return None

    # -- heaters -----------------------------------------------------------------------

    def heater_range(self, heater: str) -> tuple[float, float]:
        cfg = self.cfg
        if heater.startswith("extruder"):
            return cfg.extruder_min_temp, cfg.extruder_max_temp
        if heater == "heater_bed":
            return 0.0, cfg.bed_max_temp
        return 0.0, cfg.chamber_max_temp

    def temperature_error(self, heater: str, target: float) -> str | None:
        """Klipper's refusal of a target outside [min_temp, max_temp] (0 is always off)."""
        low, high = self.heater_range(heater)
        if target and not low <= target <= high:
            return f"Requested temperature ({target:.1f}) out of range ({low:.1f}:{high:.1f})"
        return None
