"""Saved mesh profiles, kept in the database (namespace `bed_mesh`, key `profiles`)."""

from __future__ import annotations

import logging

from components.bed_mesh.mesh import Mesh
from gateway.database import Database
from gateway.errors import NotFound

log = logging.getLogger(__name__)

NAMESPACE = "bed_mesh"
KEY = "profiles"


async def load_profiles(db: Database) -> dict[str, Mesh]:
    try:
        raw: object = await db.get_item(NAMESPACE, KEY)
    except NotFound:
        return {}
    profiles: dict[str, Mesh] = {}
    if not isinstance(raw, dict):
        return profiles
    for name, record in raw.items():
        try:
            profiles[str(name)] = Mesh.from_record(record)
        except (KeyError, TypeError, ValueError) as exc:
            log.warning("bed_mesh: stored profile %r ignored: %s", name, exc)
    return profiles


async def save_profiles(db: Database, profiles: dict[str, Mesh]) -> None:
    await db.insert_item(NAMESPACE, [KEY],
                         {name: mesh.to_record() for name, mesh in profiles.items()})
