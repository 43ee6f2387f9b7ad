"""`scripts/install.sh --web mainsail` installs Mainsail from a (local) release server
through the update manager's own code, configures `[web] path` and
`[update_manager mainsail]`, and `/` then shows a working Mainsail in headless Chromium
(a stand-in client where no Mainsail build is at hand). Offline, it says so in one line
and installs Skysail without a web interface."""

from __future__ import annotations

import asyncio
import configparser
import json
import os
import signal
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.chromium import find_chromium, open_page
from tests.harness import Http, wait_for
from tests.update_manager.releaseserver import Asset, ReleaseServer, zip_bytes, zip_folder

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "install.sh"
MAINSAIL = Path(os.environ.get("SKYSAIL_MAINSAIL_DIST", "/work/frontends/mainsail"))
# Mainsail's own state once it is connected and initialised (bench/frontend_e2e.py)
MAINSAIL_READY = """(() => {
  for (const el of document.querySelectorAll('body, body *')) {
    if (el.__vue__) {
      const st = el.__vue__.$root.$store.state;
      return !!(st.socket.isConnected && st.socket.initializationList.length === 0
                && st.printer && st.printer.print_stats);
    }
  }
  return false;
})()"""

# Where no Mainsail build exists (a clean CI machine: no registry ships one), the release
# served is a small client of our own that talks to Skysail the way a frontend does (the
# websocket, server.info until ready, printer.objects.query), so install.sh's path -
# download, check, unpack, configure, serve - is still proven in a browser.
STAND_IN_INDEX = """<!doctype html><title>Stand-in client</title>
<h1>Dashboard</h1><p id=out>connecting</p>
<script>
const ws = new WebSocket('ws://' + location.host + '/websocket');
const waiting = {};
let next = 0;
const call = (method, params) => new Promise(done => {
  next += 1; waiting[next] = done;
  ws.send(JSON.stringify({jsonrpc: '2.0', method, params: params || {}, id: next}));
});
ws.onmessage = event => {
  const msg = JSON.parse(event.data);
  if (msg.id && waiting[msg.id]) { waiting[msg.id](msg.result); delete waiting[msg.id]; }
};
ws.onopen = async () => {
  while ((await call('server.info')).klippy_state !== 'ready') {
    await new Promise(wake => setTimeout(wake, 200));
  }
  const q = await call('printer.objects.query', {objects: {toolhead: null, extruder: null}});
  document.getElementById('out').textContent = 'Toolhead at ' +
    q.status.toolhead.position.join(', ') + ' - Extruder ' + q.status.extruder.temperature;
  window.clientReady = true;
};
</script>
"""
STAND_IN_READY = "window.clientReady === true"

pytestmark = pytest.mark.skipif(find_chromium() is None, reason="chromium is not installed")


def web_release() -> tuple[bytes, str]:
    """The release zip served as mainsail.zip and the page's "initialised" expression."""
    if (MAINSAIL / "index.html").is_file():
        return zip_folder(MAINSAIL, {}), MAINSAIL_READY
    return zip_bytes({"index.html": STAND_IN_INDEX, "release_info.json": json.dumps(
        {"project_name": "mainsail", "project_owner": "mainsail-crew",
         "version": "v2.18.2"})}), STAND_IN_READY


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def env(**extra: str) -> dict[str, str]:
    out = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "SKYSAIL_WEB")}
    out.update(PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1", **extra)
    return out


async def install(*args: str | Path, extra_env: dict[str, str]) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        "bash", str(SCRIPT), *map(str, args), stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env=env(**extra_env))
    out, err = await asyncio.wait_for(proc.communicate(), 300)
    return proc.returncode or 0, out.decode(), err.decode()


def start_launcher(launcher: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as output:
        return subprocess.Popen([str(launcher), "-n"], stdout=output,
                                stderr=subprocess.STDOUT, env=env(), cwd=log.parent)


def read_conf(path: Path) -> configparser.ConfigParser:
    conf = configparser.ConfigParser(interpolation=None)
    conf.read(path, encoding="utf-8")
    return conf


async def test_install_with_web_mainsail_gives_a_working_page(tmp_path: Path) -> None:
    prefix, data = tmp_path / "opt", tmp_path / "data"
    port = free_port()
    args = ("--prefix", prefix, "--data-dir", data, "--bin-dir", "", "--no-service",
            "--port", str(port), "--web", "mainsail")

    # offline: one line, and Skysail is installed all the same
    closed = free_port()
    status, out, err = await install(
        *args, extra_env={"SKYSAIL_WEB_RELEASES_URL": f"http://127.0.0.1:{closed}/releases"})
    assert status == 0, out + err
    ours = [line for line in err.splitlines() if line.startswith("install.sh:")]
    assert len(ours) == 1 and "could not install mainsail" in ours[0], err
    assert "continuing without a web interface" in ours[0]
    conf = read_conf(data / "config" / "moonraker.conf")
    assert conf.get("web", "path", fallback="none") == "none"
    assert not (data / "mainsail").exists()

    release, initialised = web_release()
    releases = ReleaseServer()
    releases.add("v2.18.2", {"mainsail.zip": Asset(release)})
    releases.start()
    try:
        status, out, err = await install(*args, extra_env={
            "SKYSAIL_WEB_RELEASES_URL": releases.feed_url})
        assert status == 0, out + err
        assert "Installed mainsail in" in out and "web:          mainsail in" in out
        assert releases.downloads == ["v2.18.2/mainsail.zip"]
    finally:
        await releases.stop()
    web = data / "mainsail"
    assert (web / "index.html").is_file()
    assert json.loads((web / "release_info.json").read_text())["version"] == "v2.18.2"
    conf = read_conf(data / "config" / "moonraker.conf")
    assert conf["web"]["path"] == str(web)
    section = conf["update_manager mainsail"]
    assert (section["type"], section["repo"], section["path"], section["channel"]) == (
        "web", "mainsail-crew/mainsail", str(web), "stable")
    assert conf.has_section("update_manager")
    # a release list other than GitHub's is a source of code: the host policy (which
    # the API cannot write) lists it, so the server keeps it
    assert section["releases_url"] == releases.feed_url
    policy = configparser.ConfigParser(interpolation=None)
    policy.read(prefix / "host-policy.conf")
    assert policy["update_manager mainsail"]["releases_url"].split() == [releases.feed_url]

    log = tmp_path / "skysail.out"
    proc = start_launcher(prefix / "bin" / "skysail", log)
    try:
        base = f"http://127.0.0.1:{port}"

        async def answering() -> bool:
            assert proc.poll() is None, log.read_text()
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                return False
            writer.close()
            await writer.wait_closed()
            return True

        await wait_for(answering, timeout=60, what="skysail listening")
        http = Http(base)
        info: dict[str, Any] = {}

        async def started() -> bool:
            reply = await http.get("/server/info")  # 503 while the server starts
            info.update(reply.json().get("result", {}))
            return reply.status == 200

        try:
            await wait_for(started, timeout=60, what="server.info")
        finally:
            http.close()
        assert not [w for w in info["warnings"] if "refused" in w], info["warnings"]
        async with open_page(base + "/") as page:
            assert await page.wait_for(initialised, timeout=90)
            # the printer interface itself, not a placeholder page
            assert await page.wait_for(
                "(t => t.includes('dashboard') && t.includes('toolhead') && t.includes("
                "'extruder'))(document.body.innerText.toLowerCase())")
            await page.screenshot(tmp_path / "mainsail-installed.png")
            shot = os.environ.get("SKYSAIL_SCREENSHOT_DIR")
            if shot:
                await page.screenshot(Path(shot) / "install-web-mainsail.png")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
