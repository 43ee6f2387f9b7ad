"""Skysail updating itself from its git checkout (Moonraker's `git_repo` type).

upgrade: fetch, export the new commit, install it into a NEW virtual environment and
check it; only then fast-forward the checkout, switch the environment link and restart
into it. Anything failing before the switch leaves the running version as it was.
rollback: back to the previous commit and its kept environment (no reinstall).
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import shutil
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

from components.update_manager import gitrepo, proc, venvs
from components.update_manager.base import Report, UpdateError
from components.update_manager.config import SelfSection
from components.update_manager.gitrepo import GitError, RepoState, git
from gateway.database import Database

log = logging.getLogger(__name__)

NAMESPACE = "update_manager"
MANIFEST = "skysail-install.env"


def manifest_source(layout: venvs.Layout | None) -> Path | None:
    """SOURCE= of the manifest scripts/install.sh writes beside the environments."""
    if layout is None:
        return None
    try:
        text = (layout.link.parent / MANIFEST).read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("SOURCE="):
            value = line[len("SOURCE="):].strip()
            return Path(value) if value else None
    return None


class SkysailUpdater:
    configured_type = "git_repo"

    def __init__(self, name: str, section: SelfSection, db: Database) -> None:
        self.name = name
        self.section = section
        self.db = db
        configured = Path(section.virtualenv).expanduser() if section.virtualenv else None
        self.layout = venvs.detect(configured)
        source = Path(section.path).expanduser() if section.path else manifest_source(
            self.layout)
        self.path = source.resolve() if source else None
        self.repo = RepoState()
        self.last_refresh = 0.0
        self.rollback_info: dict[str, str] = {}
        self.restart_argv: list[str] | None = None

    # -- state -------------------------------------------------------------------------

    async def initialize(self) -> None:
        saved = await self._saved()
        self.last_refresh = float(saved.get("last_refresh", 0.0))
        rollback = saved.get("rollback")
        self.rollback_info = dict(rollback) if isinstance(rollback, dict) else {}
        await self._inspect()

    async def _saved(self) -> dict[str, Any]:
        try:
            value = await self.db.get_item(NAMESPACE, self.name)
        except Exception:
            return {}
        return value if isinstance(value, dict) else {}

    async def _save(self) -> None:
        await self.db.insert_item(NAMESPACE, self.name, {
            "last_refresh": self.last_refresh, "rollback": self.rollback_info})

    async def _inspect(self) -> None:
        if self.path is None:
            self.repo = RepoState()
            return
        self.repo = await gitrepo.inspect(self.path)

    async def refresh(self) -> None:
        if self.path is not None and self.repo.detected:
            try:
                await git(self.path, "fetch", "--prune", "--no-tags", self.repo.remote_alias,
                          timeout=gitrepo.FETCH_TIMEOUT)
                await git(self.path, "fetch", "--tags", "--force", self.repo.remote_alias,
                          timeout=gitrepo.FETCH_TIMEOUT)
            except GitError as exc:
                await self._inspect()
                self.repo.git_messages.append(str(exc))
                self.repo.corrupt = self.repo.corrupt or exc.corrupt
                self.last_refresh = time.time()
                raise UpdateError(f"Unable to fetch {self.name}: {exc}") from None
        await self._inspect()
        self.last_refresh = time.time()
        await self._save()

    def warnings(self) -> list[str]:
        found: list[str] = []
        if self.path is None:
            found.append("Skysail was not installed from a git checkout (scripts/install.sh "
                         "records it); set [update_manager skysail] path")
        elif not self.repo.detected:
            found.append(f"{self.path} is not a usable git checkout")
        if self.layout is None:
            found.append("Skysail's virtual environment is not laid out for upgrades "
                         "(install with scripts/install.sh, or set "
                         "[update_manager skysail] virtualenv)")
        else:
            try:
                self.layout.check()
            except venvs.LayoutError as exc:
                found.append(str(exc))
        if self.repo.detected and self.repo.detached:
            found.append("Detached HEAD: check out a branch to receive updates")
        if self.repo.detected and not self.repo.detached and self.repo.remote_hash == "?":
            found.append(f"No remote branch {self.repo.remote_alias}/{self.repo.branch}")
        return found

    def anomalies(self) -> list[str]:
        found: list[str] = []
        repo = self.repo
        if not repo.detected:
            return found
        if self.section.origin and repo.remote_url.rstrip("/") != self.section.origin.rstrip("/"):
            found.append(f"Unofficial remote url: {repo.remote_url}")
        if not repo.detached and repo.branch != self.section.primary_branch:
            found.append(f"Repo not on primary branch, expected: "
                         f"{repo.remote_alias}/{self.section.primary_branch}, detected: "
                         f"{repo.remote_alias}/{repo.branch}")
        if not repo.pristine and not repo.is_dirty:
            found.append("Repo has untracked files")
        running = venvs.running_release().get("commit")
        if running and repo.current_hash not in ("?", running):
            found.append(f"The running version was built from {running[:10]}, the checkout "
                         f"is at {repo.current_hash[:10]}")
        return found

    def status(self) -> dict[str, Any]:
        repo = self.repo
        warnings = self.warnings()
        return {
            "name": self.name,
            "configured_type": "git_repo",
            "detected_type": "git_repo",
            "channel": self.section.channel,
            "channel_invalid": False,
            "debug_enabled": False,
            "is_valid": not warnings and not repo.corrupt,
            "corrupt": repo.corrupt,
            "info_tags": list(self.section.info_tags),
            "remote_alias": repo.remote_alias,
            "branch": repo.branch,
            "owner": repo.owner,
            "repo_name": repo.repo_name,
            "version": repo.version,
            "remote_version": repo.remote_version,
            "rollback_version": self.rollback_info.get("version", repo.version),
            "current_hash": repo.current_hash,
            "remote_hash": repo.remote_hash,
            "is_dirty": repo.is_dirty,
            "detached": repo.detached,
            "pristine": repo.pristine,
            "repo_detected": repo.detected,
            "commits_behind": list(repo.commits_behind),
            "commits_behind_count": repo.commits_behind_count,
            "git_messages": list(repo.git_messages),
            "full_version_string": repo.full_version_string,
            "recovery_url": self.section.origin or repo.remote_url,
            "remote_url": repo.remote_url,
            "warnings": warnings,
            "anomalies": self.anomalies() if self.section.report_anomalies else [],
        }

    # -- operations --------------------------------------------------------------------

    def _require_valid(self) -> tuple[Path, venvs.Layout]:
        warnings = self.warnings()
        if warnings:
            raise UpdateError(f"Cannot update {self.name}: {warnings[0]}")
        if self.repo.corrupt:
            raise UpdateError(f"{self.name}: the repository is corrupt; recover it first")
        assert self.path is not None and self.layout is not None
        return self.path, self.layout

    async def upgrade(self, report: Report) -> None:
        path, layout = self._require_valid()
        if self.repo.is_dirty:
            raise UpdateError(f"{self.name}: the checkout has local changes; recover it "
                              "(machine.update.recover) first")
        report(f"Updating {self.name}: fetching from {self.repo.remote_alias}")
        await self.refresh()
        repo = self.repo
        if repo.remote_hash == repo.current_hash or repo.commits_behind_count == 0:
            report(f"{self.name} is already up to date ({repo.version})")
            return
        target_hash, target_version = repo.remote_hash, repo.remote_version
        report(f"Installing {target_version} ({repo.commits_behind_count} new commits) into "
               "a new virtual environment")
        new_venv = await self._build(path, layout, target_hash, target_version, report)
        try:
            await git(path, "merge", "--ff-only", target_hash)
        except GitError as exc:
            shutil.rmtree(new_venv, ignore_errors=True)
            raise UpdateError(f"{self.name}: cannot move the checkout to {target_hash[:10]} "
                              f"({exc}); the running version is kept") from None
        self._switch(layout, new_venv, repo.current_hash, repo.version)
        await self._save()
        await self._inspect()
        report(f"{self.name} updated to {target_version}; restarting")

    async def _build(self, path: Path, layout: venvs.Layout, commit: str, version: str,
                     report: Report) -> Path:
        stage = Path(tempfile.mkdtemp(prefix=".skysail-stage-", dir=layout.link.parent))
        try:
            archive = stage / "source.tar"
            await git(path, "archive", "--format=tar", "-o", str(archive), commit)
            source = stage / "source"
            await asyncio.to_thread(_extract, archive, source)
            release = {"commit": commit, "version": version,
                       "built": datetime.datetime.now(datetime.UTC).isoformat(
                           timespec="seconds")}
            try:
                return await venvs.build(layout, source, release, report)
            except Exception as exc:
                raise UpdateError(f"Installing {self.name} {version} failed: {exc}; the "
                                  "running version is kept") from None
        finally:
            await asyncio.to_thread(shutil.rmtree, stage, True)

    def _switch(self, layout: venvs.Layout, target: Path, old_hash: str,
                old_version: str) -> None:
        old_venv = layout.current()
        venvs.switch(layout, target)
        self.rollback_info = {"hash": old_hash, "version": old_version, "venv": old_venv.name}
        venvs.prune(layout, [target, old_venv])
        self.restart_argv = [str(layout.link / "bin" / "skysail"), *sys.argv[1:]]

    async def rollback(self, report: Report) -> None:
        path, layout = self._require_valid()
        info = self.rollback_info
        target = layout.venvs / info.get("venv", "")
        if not info.get("hash") or not info.get("venv") or not (target / "bin").is_dir():
            raise UpdateError(f"{self.name}: no previous version to roll back to")
        report(f"Rolling back {self.name} to {info.get('version', info['hash'][:10])}")
        try:
            await git(path, "reset", "--keep", info["hash"])
        except GitError as exc:
            raise UpdateError(f"{self.name}: cannot move the checkout back ({exc})") from None
        self._switch(layout, target, self.repo.current_hash, self.repo.version)
        await self._save()
        await self._inspect()
        report(f"{self.name} rolled back to {self.repo.version}; restarting")

    async def recover(self, report: Report, hard: bool) -> None:
        path, layout = self._require_valid() if not hard else self._recover_paths()
        if hard:
            url = self.section.origin or self.repo.remote_url
            report(f"Recovering {self.name}: cloning {url} again")
            await _reclone(path, url, self.section.primary_branch)
        else:
            report(f"Recovering {self.name}: discarding local changes")
            await git(path, "reset", "--hard", "HEAD")
            await git(path, "clean", "-d", "-f")
        await self._inspect()
        running = venvs.running_release().get("commit")
        if running and self.repo.detected and self.repo.current_hash != running:
            new_venv = await self._build(path, layout, self.repo.current_hash,
                                         self.repo.version, report)
            self._switch(layout, new_venv, running or "?", "?")
            await self._save()
            report(f"{self.name} recovered at {self.repo.version}; restarting")
        else:
            report(f"{self.name} recovered")

    def _recover_paths(self) -> tuple[Path, venvs.Layout]:
        if self.path is None or self.layout is None:
            raise UpdateError(f"Cannot recover {self.name}: {self.warnings()[0]}")
        if not (self.section.origin or self.repo.remote_url not in ("", "?")):
            raise UpdateError(f"Cannot recover {self.name}: no origin URL known")
        return self.path, self.layout


def _extract(archive: Path, dest: Path) -> None:
    dest.mkdir(parents=True)
    with tarfile.open(archive) as tar:
        tar.extractall(dest, filter="data")


async def _reclone(path: Path, url: str, branch: str) -> None:
    fresh = path.with_name(f".{path.name}.recover")
    await asyncio.to_thread(shutil.rmtree, fresh, True)
    try:
        await proc.output(["git", "clone", "--branch", branch, url, str(fresh)],
                                  timeout=gitrepo.FETCH_TIMEOUT)
    except proc.CommandFailed as exc:
        await asyncio.to_thread(shutil.rmtree, fresh, True)
        raise UpdateError(f"git clone {url} failed: {exc}") from None
    await asyncio.to_thread(_replace_dir, path, fresh)


def _replace_dir(path: Path, fresh: Path) -> None:
    old = path.with_name(f".{path.name}.broken")
    shutil.rmtree(old, ignore_errors=True)
    path.rename(old)
    fresh.rename(path)
    shutil.rmtree(old, ignore_errors=True)
