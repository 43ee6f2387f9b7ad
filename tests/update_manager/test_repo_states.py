"""How the Skysail entry reports its checkout, as Moonraker reports a git_repo: a dirty
tree (upgrade refused, recover cleans it), untracked files (an anomaly), a detached HEAD
(invalid), a corrupt object store, and a plain (not switchable) environment."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.harness import RpcError, Websocket, running_server
from tests.update_manager.installs import git, make_repos


def config(checkout: Path, venv: Path) -> str:
    return f"""
[server]
host: 127.0.0.1
port: 0

[update_manager]
enable_system_updates: False

[update_manager skysail]
path: {checkout}
virtualenv: {venv}
origin: https://example.invalid/skysail.git
"""


def layout(root: Path) -> Path:
    """PREFIX/venv → venvs/current (what the entry checks before it may switch)."""
    (root / "opt" / "venvs" / "current").mkdir(parents=True)
    (root / "opt" / "venv").symlink_to("venvs/current")
    return root / "opt" / "venv"


def policy(root: Path, checkout: Path, venv: Path) -> Path:
    """What Skysail updates itself from is named by the host policy (the API cannot)."""
    path = root / "host-policy.conf"
    path.write_text(f"[update_manager skysail]\npath: {checkout}\nvirtualenv: {venv}\n"
                    "origin: https://example.invalid/skysail.git\n")
    return path


async def entry(ws: Websocket) -> dict[str, Any]:
    status = await ws.call("machine.update.refresh", {"name": "skysail"})
    result: dict[str, Any] = status["version_info"]["skysail"]
    return result


async def test_dirty_untracked_and_recover(tmp_path: Path) -> None:
    _, _, checkout = make_repos(tmp_path)
    venv = layout(tmp_path)
    async with running_server(tmp_path / "data", config(checkout, venv),
                              host_policy=policy(tmp_path, checkout, venv)) as srv:
        ws = await srv.websocket()
        clean = await entry(ws)
        assert clean["is_valid"] and not clean["is_dirty"] and clean["pristine"]
        # the checkout's URL is not the configured origin: reported, not refused
        assert clean["anomalies"] == [f"Unofficial remote url: {clean['remote_url']}"]
        assert clean["recovery_url"] == "https://example.invalid/skysail.git"

        (checkout / "NOTES.txt").write_text("mine\n")
        untracked = await entry(ws)
        assert not untracked["is_dirty"] and not untracked["pristine"]
        assert "Repo has untracked files" in untracked["anomalies"]

        readme = checkout / "README.md"
        readme.write_text(readme.read_text() + "\nlocal edit\n")
        dirty = await entry(ws)
        assert dirty["is_dirty"] and dirty["full_version_string"].endswith("-dirty")
        with pytest.raises(RpcError, match="local changes"):
            await ws.call("machine.update.upgrade", {"name": "skysail"})

        assert await ws.call("machine.update.recover", {"name": "skysail"}) == "ok"
        recovered = await entry(ws)
        assert not recovered["is_dirty"] and recovered["pristine"]
        assert not (checkout / "NOTES.txt").exists()
        assert "local edit" not in readme.read_text()
        with pytest.raises(RpcError, match=r"not a Git Repo Type|not available"):
            await ws.call("machine.update.recover", {"name": "system"})


async def test_detached_head_and_corrupt_repo_are_invalid(tmp_path: Path) -> None:
    _, _, checkout = make_repos(tmp_path)
    venv = layout(tmp_path)
    async with running_server(tmp_path / "data", config(checkout, venv),
                              host_policy=policy(tmp_path, checkout, venv)) as srv:
        ws = await srv.websocket()
        git(checkout, "checkout", "-q", "--detach", "HEAD")
        detached = await entry(ws)
        assert detached["detached"] and not detached["is_valid"]
        assert any("Detached HEAD" in w for w in detached["warnings"])
        with pytest.raises(RpcError, match="Detached HEAD"):
            await ws.call("machine.update.upgrade", {"name": "skysail"})
        git(checkout, "checkout", "-q", "main")

        # the object store breaks (a bad SD card): every pack overwritten
        for pack in (checkout / ".git" / "objects" / "pack").iterdir():
            os.chmod(pack, 0o644)
            pack.write_bytes(b"garbage" * 100)
        corrupt = await entry(ws)
        assert corrupt["corrupt"] and not corrupt["is_valid"]


async def test_a_plain_virtual_environment_is_reported_not_switchable(tmp_path: Path) -> None:
    _, _, checkout = make_repos(tmp_path)
    plain = tmp_path / "opt" / "venv"
    plain.mkdir(parents=True)
    async with running_server(tmp_path / "data", config(checkout, plain),
                              host_policy=policy(tmp_path, checkout, plain)) as srv:
        ws = await srv.websocket()
        found = await entry(ws)
        assert not found["is_valid"]
        assert any("plain virtual environment" in w for w in found["warnings"])
