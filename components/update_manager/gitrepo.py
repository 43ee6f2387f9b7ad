"""What a git checkout says about itself, in the shape Moonraker's update manager reports
(branch, hashes, versions, commits behind, dirty/detached/corrupt)."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components.update_manager import proc

# Moonraker lists at most this many untagged commits behind
MAX_COMMITS = 30
GIT_TIMEOUT = 60.0
FETCH_TIMEOUT = 300.0
# git's wording for a broken object store
_CORRUPT = re.compile(r"corrupt|bad object|loose object .* is corrupt|unable to read|"
                      r"broken link|missing (blob|tree|commit)|fatal: bad tree", re.I)
_FIELD_SEP = "\x1f"
_RECORD_SEP = "\x1e"


class GitError(Exception):
    """A git command failed; `corrupt` if its message says the repository is broken."""

    def __init__(self, message: str, output: str = "") -> None:
        super().__init__(message)
        self.output = output
        self.corrupt = bool(_CORRUPT.search(output or message))


@dataclass
class RepoState:
    detected: bool = False
    branch: str = "?"
    detached: bool = False
    remote_alias: str = "origin"
    remote_url: str = "?"
    owner: str = "?"
    repo_name: str = "?"
    current_hash: str = "?"
    remote_hash: str = "?"
    version: str = "?"
    remote_version: str = "?"
    full_version_string: str = "?"
    is_dirty: bool = False
    pristine: bool = True
    corrupt: bool = False
    commits_behind: list[dict[str, Any]] = field(default_factory=list)
    commits_behind_count: int = 0
    git_messages: list[str] = field(default_factory=list)


async def git(path: Path, *args: str, timeout: float = GIT_TIMEOUT) -> str:
    try:
        return await proc.output(["git", "-C", str(path), *args], timeout=timeout)
    except proc.CommandFailed as exc:
        raise GitError(f"git {' '.join(args)}: {exc}", exc.output) from None


def owner_and_name(url: str) -> tuple[str, str]:
    """'https://github.com/Arksine/moonraker.git' → ('Arksine', 'moonraker'); a local
    path gives its last two parts."""
    cleaned = re.sub(r"\.git/?$", "", url.strip().rstrip("/"))
    parts = [p for p in re.split(r"[/:]", cleaned) if p]
    if len(parts) >= 2:
        return parts[-2], parts[-1]
    if parts:
        return "?", parts[-1]
    return "?", "?"


async def package_version(path: Path, ref: str) -> str:
    """project.version in `ref`'s pyproject.toml ("0.0.0" without one)."""
    try:
        text = await git(path, "show", f"{ref}:pyproject.toml")
        value = tomllib.loads(text).get("project", {}).get("version", "0.0.0")
        return str(value)
    except (GitError, tomllib.TOMLDecodeError):
        return "0.0.0"


async def describe(path: Path, ref: str) -> tuple[str, str]:
    """(version, full version) of `ref`: git describe's 'v1.2.3-4' and 'v1.2.3-4-gabcdef0'
    when a tag exists; otherwise the package version and the commit count."""
    try:
        full = await git(path, "describe", "--tags", "--long", "--always", "--abbrev=7", ref)
    except GitError:
        full = ""
    match = re.fullmatch(r"(.+)-(\d+)-g([0-9a-f]+)", full)
    if match:
        return f"{match.group(1)}-{match.group(2)}", full
    count = await git(path, "rev-list", "--count", ref)
    short = await git(path, "rev-parse", "--short=7", ref)
    version = f"v{await package_version(path, ref)}-{count}"
    return version, f"{version}-g{short}"


async def commits_between(path: Path, base: str, head: str) -> tuple[list[dict[str, Any]], int]:
    """Commits in head but not in base, newest first (Moonraker's Commit Info objects),
    and their total count."""
    count = int(await git(path, "rev-list", "--count", f"{base}..{head}"))
    if count == 0:
        return [], 0
    fmt = _FIELD_SEP.join(["%H", "%an", "%ct", "%s", "%b", "%D"]) + _RECORD_SEP
    raw = await git(path, "log", f"--format={fmt}", f"--max-count={MAX_COMMITS}",
                    f"{base}..{head}")
    commits: list[dict[str, Any]] = []
    for record in raw.split(_RECORD_SEP):
        record = record.strip("\n")
        if not record:
            continue
        sha, author, date, subject, body, refs = (record.split(_FIELD_SEP) + [""] * 6)[:6]
        tags = [r.strip()[5:] for r in refs.split(",") if r.strip().startswith("tag: ")]
        commits.append({"sha": sha, "author": author, "date": date, "subject": subject,
                        "message": body.strip(), "tag": tags[0] if tags else None})
    return commits, count


async def inspect(path: Path, fetched_ref: str | None = None) -> RepoState:
    """Read the checkout's state (no network). `fetched_ref` overrides the remote branch
    compared against (e.g. origin/main)."""
    state = RepoState()
    if not (path / ".git").exists():
        state.git_messages.append(f"{path} is not a git checkout")
        return state
    try:
        state.current_hash = await git(path, "rev-parse", "HEAD")
    except GitError as exc:
        state.corrupt = exc.corrupt or True
        state.git_messages.append(str(exc))
        return state
    state.detected = True
    try:
        state.branch = await git(path, "symbolic-ref", "--short", "-q", "HEAD")
    except GitError:
        state.detached = True
        state.branch = "?"
    if not state.detached:
        try:
            state.remote_alias = await git(path, "config", f"branch.{state.branch}.remote")
        except GitError:
            state.remote_alias = "origin"
    try:
        state.remote_url = await git(path, "remote", "get-url", state.remote_alias)
        state.owner, state.repo_name = owner_and_name(state.remote_url)
    except GitError as exc:
        state.git_messages.append(str(exc))
    try:
        status = (await proc.capture(["git", "-C", str(path), "status", "--porcelain",
                                      "--untracked-files=normal"], timeout=GIT_TIMEOUT))
    except proc.CommandFailed as exc:
        err = GitError(str(exc), exc.output)
        state.corrupt = err.corrupt
        state.git_messages.append(str(exc))
        return state
    lines = [ln for ln in status.output.splitlines() if ln.strip()]
    state.is_dirty = any(not ln.startswith("??") for ln in lines)
    state.pristine = not lines
    try:
        state.version, state.full_version_string = await describe(path, "HEAD")
    except GitError as exc:
        state.corrupt = exc.corrupt
        state.git_messages.append(str(exc))
    if state.is_dirty:
        state.full_version_string += "-dirty"
    remote_ref = fetched_ref or (
        None if state.detached else f"{state.remote_alias}/{state.branch}")
    if remote_ref is None:
        return state
    try:
        state.remote_hash = await git(path, "rev-parse", "--verify", "-q", remote_ref)
    except GitError:
        state.git_messages.append(f"no remote branch {remote_ref} (fetch first)")
        return state
    try:
        state.remote_version, _ = await describe(path, state.remote_hash)
        state.commits_behind, state.commits_behind_count = await commits_between(
            path, "HEAD", state.remote_hash)
    except GitError as exc:
        state.corrupt = exc.corrupt
        state.git_messages.append(str(exc))
    return state
