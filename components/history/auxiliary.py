"""Auxiliary history fields (Moonraker's `auxiliary_data` and `auxiliary_totals`): other
components (sensors) add their per-job summaries to a job's record when it ends.

A provider registers with `History.add_auxiliary_provider(provider)`. When a job ends the
history asks every provider for its fields (`job_auxiliary()`), stores them with the job,
and keeps running totals (sum and maximum) of those that ask for them. Totals are
reported only for the fields providers declare now (`auxiliary_fields()`): a renamed or
removed field's totals are no longer shown, as in Moonraker.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class AuxiliaryField:
    provider: str  # "sensor my_sensor"
    name: str
    value: object
    description: str = ""
    units: str | None = None
    report_total: bool = False
    report_maximum: bool = False

    def entry(self) -> dict[str, object]:
        return {"provider": self.provider, "name": self.name, "value": self.value,
                "description": self.description, "units": self.units}


class AuxiliaryProvider(Protocol):
    def job_auxiliary(self) -> list[AuxiliaryField]:
        """The fields of the job that just ended."""

    def auxiliary_fields(self) -> list[tuple[str, str]]:
        """(provider, field) of every field that reports totals now."""


# totals rows in the history's totals table: aux<US>provider<US>field<US>total|maximum
_SEP = "\x1f"


def total_key(provider: str, field: str, kind: str) -> str:
    return _SEP.join(("aux", provider, field, kind))


def parse_total_key(key: str) -> tuple[str, str, str] | None:
    parts = key.split(_SEP)
    if len(parts) != 4 or parts[0] != "aux":
        return None
    return parts[1], parts[2], parts[3]


def add_to_totals(totals: dict[str, float], fields: list[AuxiliaryField]) -> dict[str, float]:
    new = dict(totals)
    for field in fields:
        value = field.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if field.report_total:
            key = total_key(field.provider, field.name, "total")
            new[key] = new.get(key, 0.0) + float(value)
        if field.report_maximum:
            key = total_key(field.provider, field.name, "maximum")
            new[key] = max(new.get(key, float(value)), float(value))
    return new


def report(totals: dict[str, float],
           current: list[tuple[str, str]]) -> list[dict[str, str | float | None]]:
    """`auxiliary_totals` for the fields providers declare now."""
    out = []
    for provider, field in current:
        out.append({"provider": provider, "field": field,
                    "maximum": totals.get(total_key(provider, field, "maximum")),
                    "total": totals.get(total_key(provider, field, "total"))})
    return out
