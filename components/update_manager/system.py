"""System packages through apt (Moonraker's `system` entry): the upgradable Debian
packages, and `apt-get upgrade` with its output streamed to the frontend.

Only where the service user may run apt: as root, or with passwordless sudo granted for
apt-get. Elsewhere the entry is left out (logged once), as the issue asks."""

from __future__ import annotations

import logging
import os
import re
import shutil
from typing import Any

from components.update_manager import proc
from components.update_manager.base import Report, UpdateError

log = logging.getLogger(__name__)

APT_UPDATE_TIMEOUT = 600.0
APT_UPGRADE_TIMEOUT = 3600.0
# "libfoo/stable-security 1.2-3 amd64 [upgradable from: 1.2-2]"
_UPGRADABLE = re.compile(r"^([^/\s]+)/\S+\s+\S+\s+\S+\s+\[upgradable from:")


def parse_upgradable(text: str) -> list[str]:
    names = []
    for line in text.splitlines():
        match = _UPGRADABLE.match(line.strip())
        if match:
            names.append(match.group(1))
    return sorted(set(names))


async def privilege_prefix() -> list[str] | None:
    """[] as root, ["sudo", "-n"] with passwordless sudo for apt-get, None otherwise."""
    if shutil.which("apt-get") is None:
        return None
    if os.geteuid() == 0:
        return []
    if shutil.which("sudo") is None:
        return None
    result = await proc.capture(["sudo", "-n", "apt-get", "--version"], timeout=10,
                                check=False)
    return ["sudo", "-n"] if result.status == 0 else None


class SystemUpdater:
    name = "system"
    configured_type = "system"

    def __init__(self, prefix: list[str]) -> None:
        self.prefix = prefix
        self.packages: list[str] = []
        self.last_refresh = 0.0
        self.restart_argv: list[str] | None = None

    async def _list(self) -> None:
        result = await proc.capture(["apt", "list", "--upgradable"], timeout=120, check=False)
        self.packages = parse_upgradable(result.output)

    async def initialize(self) -> None:
        # the local package lists only: no network at start-up
        await self._list()

    async def refresh(self) -> None:
        import time

        self.last_refresh = time.time()
        try:
            await proc.run([*self.prefix, "apt-get", "update"], timeout=APT_UPDATE_TIMEOUT)
        except proc.CommandFailed as exc:
            raise UpdateError(f"apt-get update failed: {exc}") from None
        await self._list()

    def status(self) -> dict[str, Any]:
        return {"name": "system", "configured_type": "system",
                "package_count": len(self.packages), "package_list": list(self.packages)}

    async def upgrade(self, report: Report) -> None:
        report("Updating the package lists")
        try:
            await proc.run([*self.prefix, "apt-get", "update"], timeout=APT_UPDATE_TIMEOUT,
                           on_line=report)
            report("Upgrading system packages")
            await proc.run([*self.prefix, "apt-get", "-y", "-o", "Dpkg::Options::=--force-confdef",
                            "-o", "Dpkg::Options::=--force-confold", "upgrade"],
                           timeout=APT_UPGRADE_TIMEOUT, on_line=report)
        except proc.CommandFailed as exc:
            raise UpdateError(f"System update failed: {exc}") from None
        await self._list()
        report("System packages upgraded")

    async def rollback(self, report: Report) -> None:
        raise UpdateError("System packages cannot be rolled back")
