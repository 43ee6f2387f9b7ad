"""Skysail upgrading itself from a local git "origin": two new commits are listed with
their messages, upgrade installs them into a new environment and the same process comes
back on the new version; a commit that fails to install leaves the running version;
rollback returns to the previous version and environment."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from components.update_manager import venvs
from tests.harness import RpcError, Websocket, wait_for
from tests.update_manager.installs import (
    SkysailProcess,
    commit,
    git,
    make_repos,
    offline_pip_env,
    set_version,
)


def server_info(base: str) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(base + "/server/info", timeout=2) as reply:
            data: dict[str, Any] = json.loads(reply.read())["result"]
            return data
    except OSError:
        return None


async def info_when(base: str, predicate: Any, timeout: float = 90) -> dict[str, Any]:
    found: dict[str, Any] = {}

    async def ready() -> bool:
        info = await asyncio.to_thread(server_info, base)
        if info is not None and predicate(info):
            found.update(info)
            return True
        return False

    await wait_for(ready, timeout=timeout, what="server.info")
    return found


async def skysail_status(ws: Websocket) -> dict[str, Any]:
    status = await ws.call("machine.update.status")
    entry: dict[str, Any] = status["version_info"]["skysail"]
    return entry


async def test_skysail_upgrade_from_git_then_failed_install_then_rollback(
    tmp_path: Path, wheelhouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in offline_pip_env(wheelhouse).items():
        monkeypatch.setenv(key, value)
    _, seed, checkout = make_repos(tmp_path)
    base_hash = git(checkout, "rev-parse", "HEAD")
    prefix, data = tmp_path / "opt", tmp_path / "data"
    layout = venvs.Layout(prefix / "venv")
    v0 = await venvs.build(layout, checkout, {"commit": base_hash}, lambda _: None)
    venvs.switch(layout, v0)
    (data / "config").mkdir(parents=True)
    (data / "config" / "moonraker.conf").write_text(
        f"[server]\nhost: 127.0.0.1\nport: 0\n\n[update_manager]\n"
        f"enable_system_updates: False\n\n[update_manager skysail]\n"
        f"path: {checkout}\nvirtualenv: {prefix / 'venv'}\n")
    # what Skysail updates itself from is named by the host policy (the API cannot)
    (prefix / "host-policy.conf").write_text(
        f"[update_manager skysail]\npath: {checkout}\nvirtualenv: {prefix / 'venv'}\n")
    first = commit(seed, "Version 0.1.1\n\nThe version the server reports changes.",
                   set_version(seed, "0.1.1"))
    second = commit(seed, "Add a NEWS file", {"NEWS": "news\n"})

    server = SkysailProcess(prefix, data, offline_pip_env(wheelhouse))
    server.start()
    try:
        pid = server.proc.pid if server.proc else 0
        info = await info_when(server.base, lambda i: True)
        assert info["moonraker_version"].endswith("skysail-0.1.0")
        ws = await Websocket.connect(server.base.replace("http", "ws") + "/websocket")
        refreshed = await ws.call("machine.update.refresh", {"name": "skysail"})
        entry = refreshed["version_info"]["skysail"]
        assert entry["is_valid"], entry["warnings"]
        assert not entry["is_dirty"] and not entry["detached"] and not entry["corrupt"]
        assert entry["configured_type"] == "git_repo" and entry["branch"] == "main"
        assert entry["current_hash"] == base_hash and entry["remote_hash"] == second
        assert [c["sha"] for c in entry["commits_behind"]] == [second, first]
        assert [c["subject"] for c in entry["commits_behind"]] == [
            "Add a NEWS file", "Version 0.1.1"]
        assert entry["commits_behind"][1]["message"] == "The version the server reports changes."
        assert entry["version"] == "v0.1.0-1" and entry["remote_version"] == "v0.1.1-3"
        assert int(entry["commits_behind"][0]["date"]) > 0
        await ws.wait_notification("notify_update_refreshed")

        # upgrade: progress lines, busy while it runs, then the same process restarts
        upgrade = asyncio.ensure_future(ws.call("machine.update.upgrade", {"name": "skysail"},
                                                timeout=300))
        await ws.wait_notification("notify_update_response", timeout=60)
        watcher = await Websocket.connect(server.base.replace("http", "ws") + "/websocket")
        assert (await watcher.call("machine.update.status"))["busy"] is True
        await watcher.close()
        assert await upgrade == "ok"
        lines = [n["params"][0] for n in ws.notifications
                 if n["method"] == "notify_update_response"]
        assert all(n["application"] == "skysail" for n in lines)
        assert lines[-1]["complete"] is True and lines[-1]["message"] == "Restarting skysail"
        assert any("Installing" in n["message"] for n in lines)
        await wait_for(lambda: ws.closed.is_set(), timeout=30, what="restart")
        await ws.close()
        info = await info_when(server.base, lambda i: i["moonraker_version"].endswith("0.1.1"))
        assert server.alive() and server.proc is not None and server.proc.pid == pid
        assert git(checkout, "rev-parse", "HEAD") == second
        new_venv = layout.current()
        assert new_venv != v0 and venvs.read_release(new_venv)["commit"] == second
        ws = await Websocket.connect(server.base.replace("http", "ws") + "/websocket")
        entry = await skysail_status(ws)
        assert entry["commits_behind"] == [] and entry["current_hash"] == second
        assert entry["rollback_version"] == "v0.1.0-1" and entry["version"] == "v0.1.1-3"

        # a commit whose install fails: nothing moves, the running version stays
        broken = (seed / "pyproject.toml").read_text().replace(
            '"pyserial>=3.5",', '"pyserial>=3.5",\n    "skysail-no-such-dependency>=1",')
        bad = commit(seed, "Depend on something that does not exist",
                     {"pyproject.toml": broken})
        entry = (await ws.call("machine.update.refresh"))["version_info"]["skysail"]
        assert [c["sha"] for c in entry["commits_behind"]] == [bad]
        start = len(ws.notifications)
        with pytest.raises(RpcError) as failure:
            await ws.call("machine.update.upgrade", {"name": "skysail"}, timeout=300)
        assert "running version is kept" in failure.value.message
        final = await ws.wait_notification(
            "notify_update_response", lambda n: n["params"][0]["complete"], start=start)
        assert final["params"][0]["message"].startswith("Error updating skysail")
        assert git(checkout, "rev-parse", "HEAD") == second
        assert layout.current() == new_venv
        assert sorted(p.name for p in layout.venvs.iterdir()) == sorted([v0.name, new_venv.name])
        info = await info_when(server.base, lambda i: True)
        assert info["moonraker_version"].endswith("0.1.1") and server.alive()
        status = await ws.call("machine.update.status")
        assert status["busy"] is False

        # rollback: the previous commit and its kept environment, no reinstall
        assert await ws.call("machine.update.rollback", {"name": "skysail"}) == "ok"
        await wait_for(lambda: ws.closed.is_set(), timeout=30, what="restart")
        await ws.close()
        info = await info_when(server.base, lambda i: i["moonraker_version"].endswith("0.1.0"))
        assert server.proc is not None and server.proc.pid == pid
        assert git(checkout, "rev-parse", "HEAD") == base_hash
        assert layout.current() == v0
        ws = await Websocket.connect(server.base.replace("http", "ws") + "/websocket")
        entry = await skysail_status(ws)
        assert entry["current_hash"] == base_hash
        assert [c["sha"] for c in entry["commits_behind"]] == [bad, second, first]
        await ws.close()
    finally:
        server.stop()
    assert "Traceback" not in server.output, server.output
