"""Issue 17.1 for the update manager: where it downloads code from — a web client's
`repo` and `releases_url`, Skysail's `origin` (what a hard recover clones) — is not the
API's to choose. `moonraker.conf` lives in the `config` root the API can write, so a
config that changes one of them is refused (403, nothing written) unless the value is
an official project or the host policy file lists it; start-up drops such a value
however the file was edited. Without this, anyone the API accepts could have the
updater fetch a "web client" from their own server and serve it, as the API's own
origin, to every browser (or make the server request internal URLs)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from gateway.config import Config
from gateway.hostpolicy import HostPolicy, host_settings
from tests.harness import RpcError, RunningServer, running_server
from tests.security.conftest import UNTRUSTED_IP, fetch_from, key_headers, multipart
from tests.update_manager.releaseserver import Asset, ReleaseServer, client_zip

TRUSTED_IP = "127.0.0.1"


def config_text(data: Path, feed: str) -> str:
    return f"""
[server]
host: 127.0.0.1
port: 0

[authorization]
trusted_clients:
  127.0.0.1

[update_manager]
enable_system_updates: False

[update_manager mainsail]
type: web
repo: mainsail-crew/mainsail
path: {data / 'mainsail'}
channel: stable
releases_url: {feed}
"""


def judged(pol: HostPolicy, section: str, option: str, value: str) -> str | None:
    config = Config.from_string(f"[{section}]\n{option}: {value}\n")
    (setting,) = host_settings(config)
    return pol.problem(setting, [setting])


def policy(tmp_path: Path, text: str) -> HostPolicy:
    data = tmp_path / "data"
    (data / "config").mkdir(parents=True, exist_ok=True)
    path = tmp_path / "host-policy.conf"
    path.write_text(text)
    return HostPolicy.load(path, data, data / "config" / "moonraker.conf")


# -- the rule, one value at a time -------------------------------------------------------

def test_sources_are_unset_or_official_unless_the_policy_lists_them(tmp_path: Path) -> None:
    pol = policy(tmp_path, "[update_manager mainsail]\n"
                           "releases_url: https://mirror.example/mainsail/releases\n"
                           "repo: my-fork/mainsail\n"
                           "[update_manager skysail]\norigin: https://git.example/skysail.git\n")
    web = "update_manager mainsail"
    # the official frontends, whatever the section is called (GitHub ignores case)
    for repo in ("mainsail-crew/mainsail", "fluidd-core/fluidd", "Mainsail-Crew/Mainsail"):
        assert judged(pol, web, "repo", repo) is None
        assert judged(pol, "update_manager other", "repo", repo) is None
    # what the administrator listed, for that section only
    assert judged(pol, web, "repo", "my-fork/mainsail") is None
    assert judged(pol, web, "releases_url", "https://mirror.example/mainsail/releases/") is None
    assert judged(pol, "update_manager skysail", "origin",
                  "https://git.example/skysail.git") is None
    assert judged(pol, "update_manager fluidd", "repo", "my-fork/mainsail") is not None
    refused = [
        (web, "repo", "attacker/mainsail"),
        (web, "releases_url", "http://127.0.0.1:8080/admin/reboot"),
        (web, "releases_url", "https://mirror.example/mainsail/releases?x=1"),
        (web, "releases_url", "https://api.github.com/repos/attacker/mainsail/releases"),
        ("update_manager skysail", "origin", "https://evil.example/skysail.git"),
        ("update_manager moonraker", "origin", "/tmp/planted-repo"),
    ]
    for section, option, value in refused:
        problem = judged(pol, section, option, value)
        assert problem is not None and "host policy" in problem, (option, value)
        assert "downloaded from there and installed" in problem


def test_start_up_drops_sources_the_policy_does_not_list(tmp_path: Path) -> None:
    """As if the file had been edited on the host (or by an older Skysail)."""
    data = tmp_path / "data"
    conf = data / "config" / "moonraker.conf"
    conf.parent.mkdir(parents=True)
    conf.write_text(
        "[update_manager skysail]\norigin: https://evil.example/skysail.git\n"
        f"[update_manager mainsail]\ntype: web\nrepo: mainsail-crew/mainsail\n"
        f"path: {data / 'mainsail'}\nreleases_url: http://10.0.0.1/internal\n"
        f"[update_manager fluidd]\ntype: web\nrepo: attacker/fluidd\npath: {data / 'fluidd'}\n")
    config = Config.load(conf, HostPolicy.load(None, data, conf))
    # a release list: dropped, so the official one for `repo` is used
    assert config.raw("update_manager mainsail")["repo"] == "mainsail-crew/mainsail"
    assert "releases_url" not in config.raw("update_manager mainsail")
    # a recover clones the checkout's own remote
    assert "origin" not in config.raw("update_manager skysail")
    # a repository is required: the client is left out
    assert not config.has_section("update_manager fluidd")
    for name in ("[update_manager mainsail] releases_url refused",
                 "[update_manager skysail] origin refused",
                 "[update_manager fluidd] repo refused"):
        assert any(w.startswith(name) for w in config.warnings), config.warnings


# -- through the API, from an untrusted and a trusted peer --------------------------------

@dataclass
class Setup:
    srv: RunningServer
    feed: ReleaseServer
    mirror: str  # a second release list the policy lists


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[Setup]:
    feed = ReleaseServer()
    feed.add("v1.0.0", {"mainsail.zip": Asset(client_zip("v1.0.0", "One"))})
    feed.start()
    data = tmp_path / "data"
    mirror = feed.feed_url.replace("127.0.0.1", "localhost")
    policy_file = tmp_path / "host-policy.conf"
    policy_file.write_text(
        f"[update_manager mainsail]\nreleases_url:\n  {feed.feed_url}\n  {mirror}\n")
    try:
        async with running_server(data, config_text(data, feed.feed_url),
                                  host_policy=policy_file) as srv:
            yield Setup(srv, feed, mirror)
    finally:
        await feed.stop()


async def upload_config(srv: RunningServer, text: str, source_ip: str) -> tuple[int, str]:
    """Mainsail's and Fluidd's config editor: POST /server/files/upload, root=config; the
    untrusted peer brings the API key, the trusted one nothing."""
    body, headers = multipart({"root": "config"}, "moonraker.conf", text.encode())
    if source_ip != TRUSTED_IP:
        headers.update(key_headers(srv))
    reply = await fetch_from(srv, "/server/files/upload", source_ip, method="POST",
                             body=body, headers=headers)
    return reply.status, reply.body.decode()


def hostile_edits(original: str, data: Path, feed: str) -> list[tuple[str, str]]:
    """(the option named in the refusal, the changed config)."""
    section = "[update_manager mainsail]"
    return [
        (f"{section} repo", original.replace("repo: mainsail-crew/mainsail",
                                             "repo: attacker/mainsail")),
        (f"{section} releases_url", original.replace(
            feed, feed.replace("127.0.0.1", "127.0.0.2"))),
        (f"{section} releases_url", original.replace(
            feed, "http://169.254.169.254/latest/meta-data/")),
        ("[update_manager skysail] origin",
         original + "\n[update_manager skysail]\norigin: https://evil.example/s.git\n"),
        ("[update_manager evil] repo",
         original + f"\n[update_manager evil]\ntype: web\nrepo: attacker/evil\n"
                    f"path: {data / 'evil'}\n"),
    ]


@pytest.mark.parametrize("peer", [UNTRUSTED_IP, TRUSTED_IP])
async def test_config_uploads_changing_where_the_updater_downloads_from_are_refused(
        setup: Setup, peer: str) -> None:
    srv = setup.srv
    conf = srv.server.data_dir / "config" / "moonraker.conf"
    original = conf.read_bytes()
    for option, changed in hostile_edits(original.decode(), srv.server.data_dir,
                                         setup.feed.feed_url):
        assert changed != original.decode()
        status, body = await upload_config(srv, changed, peer)
        assert status == 403, (option, body)
        assert option in body and "host policy" in body, body
        assert conf.read_bytes() == original
    assert sorted(p.name for p in conf.parent.iterdir()) == ["moonraker.conf"]
    # the running updater still follows the release list it was started with
    ws = await srv.websocket()
    status_reply = await ws.call("machine.update.refresh", {"name": "mainsail"})
    assert status_reply["version_info"]["mainsail"]["remote_version"] == "v1.0.0"
    assert "evil" not in status_reply["version_info"]


async def test_copying_a_changed_config_into_place_over_json_rpc_is_refused(
        setup: Setup) -> None:
    srv = setup.srv
    conf = srv.server.data_dir / "config" / "moonraker.conf"
    original = conf.read_bytes()
    changed = original.decode().replace("repo: mainsail-crew/mainsail", "repo: attacker/x")
    staged = srv.server.data_dir / "config" / "staged.cfg"
    staged.write_text(changed)
    ws = await srv.websocket()
    for method in ("server.files.copy", "server.files.move"):
        with pytest.raises(RpcError) as refused:
            await ws.call(method, {"source": "config/staged.cfg",
                                   "dest": "config/moonraker.conf"})
        assert refused.value.code == 403
        assert "[update_manager mainsail] repo" in refused.value.message
        assert conf.read_bytes() == original


@pytest.mark.parametrize("peer", [UNTRUSTED_IP, TRUSTED_IP])
async def test_ordinary_update_manager_edits_and_listed_sources_still_save(
        setup: Setup, peer: str) -> None:
    srv = setup.srv
    conf = srv.server.data_dir / "config" / "moonraker.conf"
    text = conf.read_text().replace("channel: stable", "channel: beta")
    text += "refresh_interval: 24\npersistent_files: config.json\n# edited\n"
    status, body = await upload_config(srv, text, peer)
    assert status == 201, body
    assert conf.read_text() == text
    # another release list the host policy lists
    mirrored = text.replace(f"releases_url: {setup.feed.feed_url}",
                            f"releases_url: {setup.mirror}")
    assert mirrored != text
    status, body = await upload_config(srv, mirrored, peer)
    assert status == 201, body
    assert conf.read_text() == mirrored


async def test_a_client_from_an_unlisted_source_is_never_fetched(tmp_path: Path) -> None:
    """A config that names another project's releases (edited on the host, say): the
    client is left out at start-up and its release list never hears from the server."""
    evil = ReleaseServer()
    evil.add("v6.6.6", {"mainsail.zip": Asset(client_zip("v6.6.6", "Evil"))})
    evil.start()
    data = tmp_path / "data"
    text = config_text(data, evil.feed_url).replace("mainsail-crew/mainsail",
                                                    "attacker/mainsail")
    try:
        async with running_server(data, text) as srv:
            ws = await srv.websocket()
            status = await ws.call("machine.update.status")
            assert "mainsail" not in status["version_info"]
            info = (await srv.http.get("/server/info")).json()["result"]
            assert any("[update_manager mainsail] repo refused" in w
                       for w in info["warnings"]), info["warnings"]
            assert "skysail" in status["version_info"]
        assert evil.feed_requests == 0 and evil.downloads == []
    finally:
        await evil.stop()
