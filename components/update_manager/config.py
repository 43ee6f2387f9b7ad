"""Typed `[update_manager]` and `[update_manager NAME]` sections (Moonraker's options,
plus `releases_url` so a test or a mirror can stand in for GitHub)."""

from __future__ import annotations

import re

import msgspec

GITHUB_API = "https://api.github.com"
CHANNELS_WEB = ("stable", "beta")
CHANNELS_GIT = ("dev",)
# the names Skysail's own entry answers to (Mainsail calls machine.update.moonraker)
SELF_NAMES = ("skysail", "moonraker")


class UpdateManagerSection(msgspec.Struct, kw_only=True):
    enable_auto_refresh: bool = False
    # hours (local time) in which the automatic refresh may run, "start-end"
    refresh_window: str = "0-5"
    # hours between automatic refreshes
    refresh_interval: int = 672
    enable_system_updates: bool = True
    # accepted for Moonraker configs; Skysail always uses the apt command line
    enable_packagekit: bool = True
    channel: str = "dev"

    def __post_init__(self) -> None:
        self.window()
        if self.refresh_interval <= 0:
            raise ValueError("option 'refresh_interval': expected a positive number of hours")
        if self.channel not in ("stable", "beta", "dev"):
            raise ValueError(f"option 'channel': expected stable, beta or dev, got {self.channel}")

    def window(self) -> tuple[int, int]:
        match = re.fullmatch(r"\s*(\d{1,2})\s*-\s*(\d{1,2})\s*", self.refresh_window)
        if match is None:
            raise ValueError(
                f"option 'refresh_window': expected hours like 0-5, got {self.refresh_window}")
        start, end = int(match.group(1)), int(match.group(2))
        if not (0 <= start <= 23 and 0 <= end <= 23) or start == end:
            raise ValueError("option 'refresh_window': two different hours from 0 to 23")
        return start, end


class SelfSection(msgspec.Struct, kw_only=True):
    """`[update_manager skysail]`: where Skysail's checkout and environments are. Both
    are found by themselves for an installation made by scripts/install.sh."""

    type: str = "git_repo"
    # the git checkout Skysail was installed from
    path: str | None = None
    # PREFIX/venv, the link to the running environment
    virtualenv: str | None = None
    # the expected remote URL; another one is reported as an anomaly
    origin: str | None = None
    primary_branch: str = "main"
    channel: str = "dev"
    refresh_interval: int | None = None
    info_tags: list[str] = msgspec.field(default_factory=list)
    report_anomalies: bool = True
    is_system_service: bool = True
    managed_services: list[str] = msgspec.field(default_factory=list)

    def __post_init__(self) -> None:
        if self.type != "git_repo":
            raise ValueError(f"option 'type': Skysail updates from git (git_repo), got {self.type}")
        if self.channel not in CHANNELS_GIT:
            raise ValueError(f"option 'channel': Skysail follows its branch (dev), got "
                             f"{self.channel}")


class WebSection(msgspec.Struct, kw_only=True):
    """`[update_manager mainsail]` with `type: web`."""

    type: str
    repo: str
    path: str
    channel: str = "stable"
    persistent_files: list[str] = msgspec.field(default_factory=list)
    refresh_interval: int | None = None
    info_tags: list[str] = msgspec.field(default_factory=list)
    report_anomalies: bool = True
    # the release list (GitHub's API shape); default: GitHub's for `repo`
    releases_url: str | None = None

    def __post_init__(self) -> None:
        if self.type != "web":
            raise ValueError(f"option 'type': expected web, got {self.type}")
        if not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", self.repo):
            raise ValueError(f"option 'repo': expected owner/name, got {self.repo}")
        if self.channel not in CHANNELS_WEB:
            raise ValueError(f"option 'channel': expected stable or beta, got {self.channel}")
        for name in self.persistent_files:
            if "/" in name or name in (".", "..", ""):
                raise ValueError(f"option 'persistent_files': a file name, got {name!r}")

    @property
    def owner(self) -> str:
        return self.repo.split("/", 1)[0]

    @property
    def repo_name(self) -> str:
        return self.repo.split("/", 1)[1]

    def feed_url(self) -> str:
        return self.releases_url or f"{GITHUB_API}/repos/{self.repo}/releases?per_page=20"
