"""Mainsail (the real v2.18.2 build) in headless Chromium against Skysail: the Machine
page's Update Manager panel lists Skysail and the web client with their versions, and
the dashboard's Spoolman panel shows the active spool."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.chromium import Page, find_chromium, open_page
from tests.harness import running_server, wait_for
from tests.spoolman.spoolman_server import SpoolmanServer, make_spool
from tests.update_manager.installs import commit, make_repos
from tests.update_manager.releaseserver import Asset, ReleaseServer, client_zip
from tests.update_manager.test_install_web import MAINSAIL, MAINSAIL_READY

pytestmark = [
    pytest.mark.skipif(find_chromium() is None, reason="chromium is not installed"),
    pytest.mark.skipif(not (MAINSAIL / "index.html").is_file(),
                       reason=f"no Mainsail build at {MAINSAIL} (SKYSAIL_MAINSAIL_DIST)"),
]

STORE = """(() => { for (const el of document.querySelectorAll('body, body *')) {
  if (el.__vue__) return el.__vue__.$root; } return null; })()"""


def panel_text(card_class: str) -> str:
    return (f"(() => {{ const p = document.querySelector('.{card_class}');"
            " return p ? p.innerText : ''; })()")


async def test_mainsail_lists_updates_and_shows_the_active_spool(tmp_path: Path) -> None:
    data = tmp_path / "data"
    web = data / "mainsail"
    shutil.copytree(MAINSAIL, web)
    _, seed, checkout = make_repos(tmp_path)
    commit(seed, "Faster serial", {"NEWS": "1\n"})
    commit(seed, "Spoolman batches", {"NEWS": "2\n"})
    venvs = tmp_path / "opt" / "venvs" / "current"
    venvs.mkdir(parents=True)
    (tmp_path / "opt" / "venv").symlink_to("venvs/current")
    releases = ReleaseServer()
    releases.add("v2.19.0", {"mainsail.zip": Asset(client_zip("v2.19.0", "next"))})
    releases.start()
    spoolman = SpoolmanServer()
    spoolman.spools = {1: make_spool(1, "Galaxy Black", "1A1A1A")}
    spoolman.start()
    config = f"""
[server]
host: 127.0.0.1
port: 0

[web]
path: {web}

[update_manager]
enable_system_updates: False

[update_manager skysail]
path: {checkout}
virtualenv: {tmp_path / 'opt' / 'venv'}

[update_manager mainsail]
type: web
repo: mainsail-crew/mainsail
path: {web}
releases_url: {releases.feed_url}

[spoolman]
server: {spoolman.url}
"""
    try:
        policy = tmp_path / "host-policy.conf"
        policy.write_text(f"[update_manager skysail]\npath: {checkout}\n"
                          f"virtualenv: {tmp_path / 'opt' / 'venv'}\n"
                          f"[update_manager mainsail]\nreleases_url: {releases.feed_url}\n")
        async with running_server(data, config, host_policy=policy) as srv:
            ws = await srv.websocket()
            await wait_for(lambda: srv.server.klippy_state == "ready", 30, "printer ready")
            await ws.call("server.spoolman.post_spool_id", {"spool_id": 1})
            status = await ws.call("machine.update.status")
            await wait_for(lambda: bool(status), what="status")
            async with open_page(srv.base + "/") as page:
                assert await page.wait_for(MAINSAIL_READY, timeout=90)
                spool = await page.wait_for(
                    f"(t => t.includes('Galaxy Black') && t)({panel_text('spoolman-panel')})",
                    timeout=30)
                assert "#1 | prusament" in spool.lower()
                await shot(page, tmp_path, "mainsail-spoolman.png", "spoolman-panel")
                await page.evaluate(f"{STORE}.$router.push('/config') && true")
                text = await page.wait_for(
                    f"(t => t.includes('skysail') && t.includes('mainsail') && t)"
                    f"({panel_text('machine-update-panel')})", timeout=30)
                lines = [line.strip() for line in text.splitlines() if line.strip()]
                # each entry: its name, then its version line
                assert lines[lines.index("mainsail") + 1] == "v2.18.2 > v2.19.0", lines
                assert lines[lines.index("skysail") + 1] == "v0.1.0-1 > v0.1.0-3", lines
                await shot(page, tmp_path, "mainsail-update-manager.png", "machine-update-panel")
    finally:
        await releases.stop()
        await spoolman.stop()


async def shot(page: Page, tmp_path: Path, name: str, card_class: str) -> None:
    await page.evaluate(f"document.querySelector('.{card_class}').scrollIntoView() || true")
    await page.screenshot(tmp_path / name)
    target = os.environ.get("SKYSAIL_SCREENSHOT_DIR")
    if target:
        await page.screenshot(Path(target) / name)
