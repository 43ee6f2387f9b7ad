"""The payloads of notify_filelist_changed (and of the replies that mirror them)."""

from __future__ import annotations

from collections.abc import Mapping

from .roots import Target


def item(target: Target, info: Mapping[str, object]) -> dict[str, object]:
    """{modified, size, permissions, path, root} - Moonraker's key order."""
    return {**info, "path": target.rel, "root": target.root.name}


def changed(
    action: str, target: Target, info: Mapping[str, object], source: Target | None = None
) -> dict[str, object]:
    payload: dict[str, object] = {"action": action, "item": item(target, info)}
    if source is not None:
        payload["source_item"] = {"path": source.rel, "root": source.root.name}
    return payload
