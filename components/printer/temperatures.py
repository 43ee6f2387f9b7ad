"""Marlin's temperature report names → Klipper objects, and the reading each holds."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.hostlink.protocol.events import HeaterReading

# Marlin reports heater power as PWM 0..127 after @:
PWM_MAX = 127.0


@dataclass(slots=True)
class Reading:
    temperature: float
    target: float | None
    power: float | None


# Klipper's object for a heated chamber ([heater_generic chamber]): what Marlin's "C"
# reading is when the firmware reports Cap:CHAMBER_TEMPERATURE:1 (M141/M191)
CHAMBER_HEATER = "heater_generic chamber"

# sensors without a heater that Marlin may report, as Klipper's temperature_sensor objects
EXTRA_SENSORS = {
    "C": "temperature_sensor chamber",
    "P": "temperature_sensor probe",
    "M": "temperature_sensor board",
    "L": "temperature_sensor cooler",
    "R": "temperature_sensor redundant",
}


def object_name(sensor: str, active_tool: int) -> str | None:
    """T (active tool), T0..Tn, B → extruder, extruderN, heater_bed; C, P, M, L, R →
    temperature_sensor chamber, probe, board, cooler, redundant."""
    if sensor == "T":
        sensor = f"T{active_tool}"
    if sensor.startswith("T") and sensor[1:].isdigit():
        index = int(sensor[1:])
        return "extruder" if index == 0 else f"extruder{index}"
    if sensor == "B":
        return "heater_bed"
    return EXTRA_SENSORS.get(sensor)


def readings(
    sensors: dict[str, HeaterReading], active_tool: int
) -> dict[str, Reading]:
    out: dict[str, Reading] = {}
    # with several tools Marlin sends T (active) and T0..Tn: the numbered ones win
    numbered = any(name[:1] == "T" and name[1:].isdigit() for name in sensors)
    for sensor, reading in sensors.items():
        if sensor == "T" and numbered:
            continue
        name = object_name(sensor, active_tool)
        if name is None:
            continue
        power = None if reading.power is None else min(1.0, reading.power / PWM_MAX)
        out[name] = Reading(reading.actual, reading.target, power)
    return out
