"""The settings as the frontends see them (moonraker-timelapse's dictionary) and their
storage: defaults, then the database, then the `[timelapse]` options (which win and are
reported as `blockedsettings`)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import msgspec

from components.timelapse import config as C
from components.timelapse.config import TimelapseSection
from gateway.errors import BadRequest, NotFound

if TYPE_CHECKING:
    from gateway.database import Database

log = logging.getLogger(__name__)

NAMESPACE = "timelapse"
KEY = "config"


class SettingsStore:
    def __init__(self, db: Database, section: TimelapseSection, written: set[str]) -> None:
        self.db = db
        self.cfg = section
        # our names of the options the config file sets: fixed
        self.blocked = {name for name in written if hasattr(section, name)} | set(C.FIXED)

    async def load(self) -> None:
        try:
            stored = await self.db.get_item(NAMESPACE, KEY)
        except NotFound:
            return
        if not isinstance(stored, dict):
            return
        try:
            changes = self._ours(stored)
            self.cfg = C.replace(self.cfg, changes)
        except (ValueError, msgspec.ValidationError, BadRequest) as exc:
            log.warning("timelapse: stored settings ignored: %s", exc)

    def _ours(self, values: dict[str, object]) -> dict[str, object]:
        """Moonraker-named values -> our names, minus blocked and unknown ones."""
        changes: dict[str, object] = {}
        for key, value in values.items():
            ours = C.MOONRAKER_KEYS.get(key)
            if ours is None or ours in self.blocked:
                continue
            try:
                changes[ours] = C.from_moonraker(ours, value)
            except ValueError as exc:
                raise BadRequest(str(exc)) from None
        return changes

    async def update(self, values: dict[str, object]) -> TimelapseSection:
        """Apply Moonraker-named settings (blocked and unknown ones are ignored, as
        moonraker-timelapse); BadRequest for an impossible value; stored."""
        changes = self._ours(values)
        if not changes:
            return self.cfg
        try:
            new = C.replace(self.cfg, changes)
        except (ValueError, msgspec.ValidationError) as exc:
            raise BadRequest(f"Invalid timelapse setting: {exc}") from None
        for ours in changes:
            theirs = C.OURS_TO_MOONRAKER[ours]
            value = C.to_moonraker(ours, getattr(new, ours))
            await self.db.insert_item(NAMESPACE, f"{KEY}.{theirs}", value)
        self.cfg = new
        return new

    def moonraker(self, snapshoturl: str) -> dict[str, object]:
        """moonraker-timelapse's settings dictionary (plus our own keys)."""
        out: dict[str, object] = {}
        for theirs, ours in C.MOONRAKER_KEYS.items():
            out[theirs] = C.to_moonraker(ours, getattr(self.cfg, ours))
        out["snapshoturl"] = snapshoturl
        out.update(C.UNSUPPORTED)
        blocked = [C.OURS_TO_MOONRAKER[n] for n in sorted(self.blocked)
                   if n in C.OURS_TO_MOONRAKER]
        out["blockedsettings"] = [*blocked, "snapshoturl", *C.UNSUPPORTED]
        return out
