"""First-order thermal model of the heaters with a simple feed-forward + P controller."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .config import VirtualPrinterConfig

_STEP = 0.25  # simulated seconds per integration step (the update is exact per step)


class Heater:
    def __init__(self, *, ambient: float, max_rise: float, time_constant: float, kp: float) -> None:
        self.ambient = ambient
        self.max_rise = max_rise
        self.tau = time_constant
        self.kp = kp
        self.temp = ambient
        self.target = 0.0
        self.power = 0.0  # 0..1

    @property
    def pwm(self) -> int:
        """Heater power as Marlin reports it after ``@:`` (0..127)."""
        return round(self.power * 127)

    def _control(self) -> None:
        if self.target <= 0:
            self.power = 0.0
            return
        feed_forward = (self.target - self.ambient) / self.max_rise
        self.power = min(1.0, max(0.0, feed_forward + self.kp * (self.target - self.temp)))

    def advance(self, dt: float) -> None:
        """Advance the model by ``dt`` simulated seconds."""
        while dt > 0:
            step = min(dt, _STEP)
            self._control()
            t_eq = self.ambient + self.power * self.max_rise
            self.temp = t_eq + (self.temp - t_eq) * math.exp(-step / self.tau)
            dt -= step
        self._control()


class Thermal:
    """All heaters of the machine; advanced lazily from wall time."""

    def __init__(
        self,
        *,
        extruder_count: int,
        heated_bed: bool,
        ambient: float,
        hotend_max_rise: float,
        hotend_time_constant: float,
        bed_max_rise: float,
        bed_time_constant: float,
        time_scale: float,
        now: float,
        chamber: tuple[float, float] | None = None,
    ) -> None:
        self.hotends = [
            Heater(
                ambient=ambient,
                max_rise=hotend_max_rise,
                time_constant=hotend_time_constant,
                kp=0.08,
            )
            for _ in range(extruder_count)
        ]
        self.bed: Heater | None = (
            Heater(ambient=ambient, max_rise=bed_max_rise, time_constant=bed_time_constant, kp=0.2)
            if heated_bed
            else None
        )
        # a heated chamber: (max_rise, time_constant); its own sensor replaces "C"
        self.chamber: Heater | None = (
            Heater(ambient=ambient, max_rise=chamber[0], time_constant=chamber[1], kp=0.3)
            if chamber is not None
            else None
        )
        self.scale = time_scale
        self._last = now
        # extra sensors in the report (Marlin's letters): C chamber, P probe, M board
        self.extra_sensors = ""
        self.ambient = ambient

    @classmethod
    def from_config(cls, c: VirtualPrinterConfig, now: float) -> Thermal:
        thermal = cls(
            extruder_count=max(1, c.extruder_count),
            heated_bed=c.heated_bed,
            ambient=c.ambient_temp,
            hotend_max_rise=c.hotend_max_rise,
            hotend_time_constant=c.hotend_time_constant,
            bed_max_rise=c.bed_max_rise,
            bed_time_constant=c.bed_time_constant,
            time_scale=c.time_scale,
            now=now,
            chamber=(c.chamber_max_rise, c.chamber_time_constant) if c.heated_chamber else None,
        )
        thermal.extra_sensors = c.extra_sensors
        return thermal

    def update(self, now: float) -> None:
        dt = (now - self._last) * self.scale
        if dt < 0.02:
            return
        self._last = now
        for h in self.heaters():
            h.advance(dt)

    def heaters(self) -> list[Heater]:
        return [*self.hotends, *(h for h in (self.bed, self.chamber) if h is not None)]

    def all_off(self) -> None:
        for h in self.heaters():
            h.target = 0.0
            h.power = 0.0

    def report(self, extruder: int) -> str:
        """Marlin's ``print_heater_states``: `` T:.. /.. B:.. /.. @:.. B@:..`` (leading space)."""
        he = self.hotends[extruder]
        parts = [f" T:{he.temp:.2f} /{he.target:.2f}"]
        if self.bed is not None:
            parts.append(f" B:{self.bed.temp:.2f} /{self.bed.target:.2f}")
        multi = len(self.hotends) > 1
        if multi:
            for i, h in enumerate(self.hotends):
                parts.append(f" T{i}:{h.temp:.2f} /{h.target:.2f}")
        parts.extend(self._extra_report(he))
        parts.append(f" @:{he.pwm}")
        if self.bed is not None:
            parts.append(f" B@:{self.bed.pwm}")
        if self.chamber is not None:
            parts.append(f" C@:{self.chamber.pwm}")
        if multi:
            for i, h in enumerate(self.hotends):
                parts.append(f" @{i}:{h.pwm}")
        return "".join(parts)

    def _extra_report(self, hotend: Heater) -> list[str]:
        """Unheated sensors that follow the heaters: the chamber and the probe warm with
        the bed, the board with the hotend."""
        bed = self.bed.temp if self.bed is not None else self.ambient
        values = {"C": self.ambient + 0.1 * (bed - self.ambient),
                  "P": self.ambient + 0.3 * (bed - self.ambient),
                  "M": self.ambient + 12.0 + 0.02 * (hotend.temp - self.ambient)}
        parts = []
        if self.chamber is not None:
            parts.append(f" C:{self.chamber.temp:.2f} /{self.chamber.target:.2f}")
        for letter in self.extra_sensors:
            if letter == "C" and self.chamber is not None:
                continue  # the heated chamber's own sensor, above
            if letter == "C":
                parts.append(f" C:{values['C']:.2f} /0.00")
            elif letter in values:
                parts.append(f" {letter}:{values[letter]:.2f}")
        return parts
