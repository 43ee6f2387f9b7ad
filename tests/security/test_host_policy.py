"""Issue 17.1: no sequence of API calls reaches past the data directory. Options naming
host paths or programs are accepted only inside the data directory or when the host
policy file allows them; config writes through the API that change one otherwise are
refused and change nothing; start-up re-checks the file however it was edited."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.config import Config
from gateway.hostpolicy import HostPolicy, host_settings
from tests.harness import RunningServer, running_server
from tests.security.conftest import fetch_from, key_headers, multipart

BASE_CONFIG = """
[server]
host: 127.0.0.1
port: 0

[authorization]
trusted_clients:
  127.0.0.1

[printer]
max_velocity: 300

[timelapse]
enabled: True
"""

# every option naming a host path or program, with a value outside what the API may set
HOSTILE = [
    ("web", "path", "/etc"),
    ("timelapse", "output_path", "/"),
    ("timelapse", "frame_path", "/usr/lib/python3/dist-packages"),
    ("timelapse", "ffmpeg_path", "/bin/sh"),
    ("database", "database_path", "/tmp"),
    ("serial", "port", "spy:///dev/ttyS0?file=/etc/cron.d/x"),
]
# the same for sections whose components need more to start (checked without a server)
HOSTILE_ELSEWHERE = [
    ("mqtt", "password_file", "/etc/shadow"),
    ("update_manager skysail", "path", "/tmp/evil-checkout"),
    ("update_manager skysail", "virtualenv", "/tmp/evil-venv"),
    ("update_manager mainsail", "path", "/var/www/html"),
    ("update_manager skysail", "origin", "https://evil.example/skysail.git"),
    ("update_manager moonraker", "path", "/tmp/evil-checkout"),
    ("update_manager moonraker", "virtualenv", "/tmp/evil-venv"),
    ("update_manager moonraker", "origin", "/tmp/planted-repo"),
    ("notifier phone", "attach", "/etc/shadow"),
]
# where a web client's code comes from (a required option of its section: checked by
# uploads here, at start-up in test_updater_sources.py)
HOSTILE_SOURCES = [
    ("update_manager mainsail", "repo", "attacker/mainsail"),
    ("update_manager mainsail", "releases_url", "http://169.254.169.254/latest/"),
]


def set_option(text: str, section: str, option: str, value: str) -> str:
    """`text` with `[section] option: value` (added to the section or a new one)."""
    header = f"[{section}]\n"
    if header in text:
        return text.replace(header, f"{header}{option}: {value}\n", 1)
    return f"{text}\n{header}{option}: {value}\n"


def policy(tmp_path: Path, data: Path, text: str = "") -> HostPolicy:
    path = tmp_path / "host-policy.conf"
    path.write_text(text)
    return HostPolicy.load(path, data, data / "config" / "moonraker.conf")


def judged(pol: HostPolicy, section: str, option: str, value: str) -> str | None:
    config = Config.from_string(f"[{section}]\n{option}: {value}\n")
    (setting,) = host_settings(config)
    return pol.problem(setting, [setting])


# -- the rules, one value at a time ------------------------------------------------------

def test_folders_are_accepted_only_inside_the_data_directory_in_a_place_of_their_own(
        tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "config").mkdir(parents=True)
    pol = policy(tmp_path, data)
    assert judged(pol, "timelapse", "output_path", str(data / "videos")) is None
    assert judged(pol, "timelapse", "output_path", str(data / "timelapse")) is None
    assert judged(pol, "web", "path", str(data / "mainsail")) is None
    for bad in ("/etc", str(data), str(tmp_path), str(data / "config"),
                str(data / "database"), str(data / "logs" / "x"), str(data / "gcodes"),
                str(data / "videos" / ".." / ".." / "elsewhere")):
        assert judged(pol, "timelapse", "output_path", bad) is not None, bad
    # the web folder may not be another option's folder (served to anybody)
    assert "overlaps" in str(judged(pol, "web", "path", str(data / "timelapse")))
    # a symlink inside the data directory that points out is judged by its target
    (data / "link").symlink_to("/etc")
    assert judged(pol, "web", "path", str(data / "link")) is not None


def test_programs_are_the_default_one_unless_the_policy_names_them(tmp_path: Path) -> None:
    data = tmp_path / "data"
    pol = policy(tmp_path, data)
    assert judged(pol, "timelapse", "ffmpeg_path", "ffmpeg") is None
    assert judged(pol, "timelapse", "ffmpeg_path", "/bin/sh") is not None
    assert judged(pol, "timelapse", "ffmpeg_path", "python3") is not None
    allowed = policy(tmp_path, data, "[timelapse]\nffmpeg_path: /bin/sh\n")
    assert judged(allowed, "timelapse", "ffmpeg_path", "/bin/sh") is None


def test_serial_ports_are_ttys_unless_the_policy_names_them(tmp_path: Path) -> None:
    data = tmp_path / "data"
    pol = policy(tmp_path, data)
    for ok in ("virtual", "/dev/ttyUSB0", "/dev/ttyACM0", "/dev/serial/by-id/usb-Marlin-if00"):
        assert judged(pol, "serial", "port", ok) is None, ok
    for bad in ("spy:///dev/ttyUSB0?file=/tmp/x", "socket://10.0.0.5:23", "/dev/sda",
                "/etc/passwd", "loop://"):
        assert judged(pol, "serial", "port", bad) is not None, bad
    # a link to a tty (a udev rule's name, a virtual printer's pty link) is judged by
    # what it points at
    (tmp_path / "printer").symlink_to("/dev/ptmx")
    assert judged(pol, "serial", "port", str(tmp_path / "printer")) is not None
    (tmp_path / "tty").symlink_to("/dev/tty")
    assert judged(pol, "serial", "port", str(tmp_path / "tty")) is None
    allowed = policy(tmp_path, data, "[serial]\nport: socket://10.0.0.5:23\n")
    assert judged(allowed, "serial", "port", "socket://10.0.0.5:23") is None


def test_policy_folders_allow_themselves_and_below(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (tmp_path / "usb").mkdir()
    pol = policy(tmp_path, data, f"[timelapse]\noutput_path: {tmp_path / 'usb'}\n")
    assert judged(pol, "timelapse", "output_path", str(tmp_path / "usb" / "videos")) is None
    assert judged(pol, "timelapse", "output_path", str(tmp_path / "other")) is not None
    # a policy is per option: it does not open [web] path
    assert judged(pol, "web", "path", str(tmp_path / "usb")) is not None


def test_a_policy_the_api_could_write_or_that_hands_out_the_data_directory_is_ignored(
        tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "config").mkdir(parents=True)
    inside = data / "config" / "host-policy.conf"
    inside.write_text("[web]\npath: /etc\n")
    pol = HostPolicy.load(inside, data, data / "config" / "moonraker.conf")
    assert pol.allowed == {} and "inside the data directory" in pol.warnings[0]
    wide = policy(tmp_path, data, f"[timelapse]\noutput_path: {tmp_path}\n")
    assert wide.allowed[("timelapse", "output_path")] == []
    assert "holds the data directory" in wide.warnings[0]
    unknown = policy(tmp_path, data, "[printer]\nmax_velocity: 9\n")
    assert "not an option naming a host path" in unknown.warnings[0]


# -- through the API ---------------------------------------------------------------------

@pytest.fixture
async def tl(tmp_path: Path) -> AsyncIterator[RunningServer]:
    async with running_server(tmp_path / "data", BASE_CONFIG) as srv:
        yield srv


async def upload_config(srv: RunningServer, text: str, name: str = "moonraker.conf",
                        path: str = "") -> tuple[int, str]:
    """Mainsail's and Fluidd's config editor: POST /server/files/upload, root=config."""
    fields = {"root": "config"}
    if path:
        fields["path"] = path
    body, headers = multipart(fields, name, text.encode())
    reply = await fetch_from(srv, "/server/files/upload", method="POST", body=body,
                             headers={**headers, **key_headers(srv)})
    return reply.status, reply.body.decode()


async def test_config_uploads_changing_host_options_are_refused_and_change_nothing(
        tl: RunningServer) -> None:
    conf = tl.server.data_dir / "config" / "moonraker.conf"
    reply = await fetch_from(tl, "/server/files/config/moonraker.conf", headers=key_headers(tl))
    assert reply.status == 200
    original = reply.body
    for section, option, value in HOSTILE + HOSTILE_ELSEWHERE + HOSTILE_SOURCES:
        changed = set_option(original.decode(), section, option, value)
        status, body = await upload_config(tl, changed)
        assert status == 403, (option, body)
        assert f"[{section}] {option}" in body and "host policy" in body, body
        assert conf.read_bytes() == original
    # nothing else was left behind in the config root
    assert sorted(p.name for p in conf.parent.iterdir()) == ["moonraker.conf"]


async def test_ordinary_config_edits_still_save(tl: RunningServer) -> None:
    conf = tl.server.data_dir / "config" / "moonraker.conf"
    text = conf.read_text().replace("max_velocity: 300", "max_velocity: 250")
    text += "\n# tuned by hand\n"
    status, body = await upload_config(tl, text)
    assert status == 201, body
    assert conf.read_text() == text
    # a folder of its own inside the data directory is fine too
    inside = set_option(text, "timelapse", "output_path", str(tl.server.data_dir / "videos"))
    status, body = await upload_config(tl, inside)
    assert status == 201, body
    # and other files in the config root are not config the server reads
    status, body = await upload_config(tl, "[web]\npath: /etc\n", name="notes.cfg")
    assert status == 201, body


async def test_moving_or_copying_a_file_over_the_config_is_checked_too(
        tl: RunningServer) -> None:
    conf = tl.server.data_dir / "config" / "moonraker.conf"
    original = conf.read_bytes()
    evil = set_option(original.decode(), "web", "path", "/")
    status, _ = await upload_config(tl, evil, name="staged.cfg")
    assert status == 201
    for route in ("/server/files/move", "/server/files/copy"):
        reply = await fetch_from(tl, route, method="POST", headers=key_headers(tl),
                                 json={"source": "config/staged.cfg",
                                       "dest": "config/moonraker.conf"})
        assert reply.status == 403, reply.body
        assert conf.read_bytes() == original
    # a folder moved into place holding a config is checked as well
    status, _ = await upload_config(tl, evil, name="moonraker.conf", path="stage")
    assert status == 201
    reply = await fetch_from(tl, "/server/files/copy", method="POST", headers=key_headers(tl),
                             json={"source": "config/stage", "dest": "config/moonraker.conf"})
    assert reply.status in (400, 403), reply.body
    assert conf.read_bytes() == original
    reply = await fetch_from(tl, "/server/files/zip", method="POST", headers=key_headers(tl),
                             json={"items": ["config/staged.cfg"],
                                   "dest": "config/moonraker.conf"})
    assert reply.status == 403, reply.body
    assert conf.read_bytes() == original


async def test_an_unparsable_config_is_not_saved(tl: RunningServer) -> None:
    conf = tl.server.data_dir / "config" / "moonraker.conf"
    original = conf.read_bytes()
    status, body = await upload_config(tl, "[server\nport 7125")
    assert status == 400 and "does not parse" in body
    assert conf.read_bytes() == original


@pytest.mark.parametrize(("section", "option", "value"), HOSTILE)
async def test_start_up_refuses_host_options_edited_by_other_means(
        tmp_path: Path, section: str, option: str, value: str) -> None:
    """As if an editor on the host (or an older Skysail) had written the file: the
    option is dropped with a warning naming it, and the default is used."""
    config = set_option(BASE_CONFIG, section, option, value)
    async with running_server(tmp_path / "data", config) as srv:
        warnings = (await srv.http.get("/server/info")).json()["result"]["warnings"]
        assert any(f"[{section}] {option} refused" in w for w in warnings), warnings
        assert option not in srv.server.config.raw(section)
        if (section, option) == ("web", "path"):
            assert (await srv.http.get("/index.html")).status == 404
        if (section, option) == ("timelapse", "output_path"):
            roots = (await srv.http.get("/server/files/roots")).json()["result"]
            timelapse = next(r for r in roots if r["name"] == "timelapse")
            assert timelapse["path"] == str(srv.server.data_dir / "timelapse")


def test_start_up_refuses_host_options_of_other_components(tmp_path: Path) -> None:
    data = tmp_path / "data"
    conf = data / "config" / "moonraker.conf"
    conf.parent.mkdir(parents=True)
    text = BASE_CONFIG + "\n[mqtt]\naddress: 127.0.0.1\n"
    text += "\n[update_manager mainsail]\ntype: web\nrepo: mainsail-crew/mainsail\n"
    text += "\n[notifier phone]\nurl: json://127.0.0.1/x\nevents: *\n"
    for section, option, value in HOSTILE_ELSEWHERE:
        text = set_option(text, section, option, value)
    conf.write_text(text)
    config = Config.load(conf, HostPolicy.load(None, data, conf))
    assert "password_file" not in config.raw("mqtt")
    assert config.raw("update_manager skysail") == {}
    # a web client's folder is required: its whole section is left out
    assert not config.has_section("update_manager mainsail")
    for section, option, _ in HOSTILE_ELSEWHERE:
        assert any(w.startswith(f"[{section}] {option} refused") for w in config.warnings)
    # a password file in the config folder is fine; one among the database's is not
    assert judged(policy(tmp_path, data), "mqtt", "password_file",
                  str(data / "backup" / "x")) is not None
    pol = policy(tmp_path, data)
    assert judged(pol, "mqtt", "password_file", str(data / "config" / "mqtt.secret")) is None
    assert judged(pol, "mqtt", "password_file",
                  str(data / "database" / "skysail.sqlite")) is not None


async def test_the_policy_file_opens_what_the_administrator_listed(tmp_path: Path) -> None:
    dist = tmp_path / "mainsail"
    dist.mkdir()
    (dist / "index.html").write_text("<html>mainsail</html>")
    usb = tmp_path / "usb"
    usb.mkdir()
    policy_file = tmp_path / "host-policy.conf"
    policy_file.write_text(f"[web]\npath: {dist}\n[timelapse]\noutput_path: {usb}\n")
    os.chmod(policy_file, 0o644)
    config = set_option(BASE_CONFIG, "web", "path", str(dist))
    async with running_server(tmp_path / "data", config, host_policy=policy_file) as srv:
        assert (await srv.http.get("/")).body == b"<html>mainsail</html>"
        conf = srv.server.data_dir / "config" / "moonraker.conf"
        allowed = set_option(conf.read_text(), "timelapse", "output_path", str(usb / "tl"))
        status, body = await upload_config(srv, allowed)
        assert status == 201, body
        refused = conf.read_text().replace(f"path: {dist}", f"path: {usb}")
        status, body = await upload_config(srv, refused)
        assert status == 403 and str(policy_file) in body


# -- no option naming a host path or program is forgotten ------------------------------

# options whose names look like host paths or programs but are not (why, each)
NOT_HOST_OPTIONS = {
    ("PrinterSection", "kinematics"): "a word",
    ("ServerSection", "port"): "the TCP port to listen on",
    ("BedMeshSection", "probe_command"): "G-code sent to the printer",
    ("BedMeshSection", "report_command"): "G-code sent to the printer",
    ("PauseResumeSection", "cancel_gcode"): "G-code sent to the printer",
    ("TimelapseSection", "park_gcode"): "G-code sent to the printer",
    ("WebcamSection", "stream_url"): "a URL the browser opens",
    ("WebcamSection", "snapshot_url"): "an http(s) URL (tornado fetches nothing else)",
    ("VirtualPrinterConfig", "sd_dir"): "not a config option: built by the host link",
    ("VirtualPrinterConfig", "record_path"): "not a config option: the standalone virtual "
                                             "printer's --record",
    ("MacroSection", "gcode"): "G-code sent to the printer",
    ("QueueSection", "clear_bed_gcode"): "G-code sent to the printer",
    ("JobQueueSection", "job_transition_gcode"): "G-code sent to the printer",
    ("MqttDeviceSection", "command_topic"): "an MQTT topic",
    ("MqttDeviceSection", "command_payload"): "an MQTT message",
    ("HttpSection", "on_url"): "an HTTP request to a device (see THREAT_MODEL: URLs)",
    ("HttpSection", "off_url"): "an HTTP request to a device (see THREAT_MODEL: URLs)",
    ("HttpSection", "status_url"): "an HTTP request to a device (see THREAT_MODEL: URLs)",
    ("HomeAssistantSection", "device"): "a Home Assistant entity id",
    ("AuthorizationSection", "default_source"): "a login source's name (moonraker)",
    ("NotifierSection", "url"): "an Apprise service URL (attachments are judged: attach)",
}
_HOSTLIKE = ("path", "dir", "file", "program", "command", "exec", "binary", "port", "url",
             "gcode", "script", "cmd", "socket", "device", "repo", "origin", "remote",
             "source", "feed", "mirror")


def _config_structs() -> list[type]:
    import importlib
    import pkgutil

    import msgspec

    import components
    import gateway

    for package in (gateway, components):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if ".virtual.__main__" in info.name or info.name.endswith("__main__"):
                continue
            try:
                importlib.import_module(info.name)
            except ImportError:
                continue  # optional hardware modules (rpi_ws281x)
    seen: list[type] = []
    todo = list(msgspec.Struct.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__name__.endswith(("Section", "Config")) and cls not in seen:
            seen.append(cls)
    return seen


def test_every_option_that_looks_like_a_host_path_or_program_is_judged() -> None:
    import msgspec

    from gateway.hostpolicy import HOST_OPTIONS

    declared = {o.option for o in HOST_OPTIONS}
    missing = []
    for struct in _config_structs():
        for field in msgspec.structs.fields(struct):
            words = field.name.lower().split("_")
            if not any(w in _HOSTLIKE for w in words) or "str" not in str(field.type):
                continue  # a path or a program is text
            if (struct.__name__, field.name) in NOT_HOST_OPTIONS:
                continue
            if field.name not in declared:
                missing.append(f"{struct.__module__}.{struct.__name__}.{field.name}")
    assert not missing, ("options naming host paths or programs must be in "
                         f"gateway.hostpolicy.HOST_OPTIONS (or explained here): {missing}")


def test_every_host_option_has_a_hostile_value_the_upload_test_tries() -> None:
    """A new entry in HOST_OPTIONS gets a refused upload of its own (issue 17.1's
    Must show: each path/executable option through the API)."""
    import fnmatch

    from gateway.hostpolicy import HOST_OPTIONS

    tried = HOSTILE + HOSTILE_ELSEWHERE + HOSTILE_SOURCES
    untried = [o.name for o in HOST_OPTIONS
               if not any(option == o.option and fnmatch.fnmatchcase(section, o.section)
                          for section, option, _ in tried)]
    assert not untried, f"no hostile upload tries {untried}"


def test_the_web_client_update_manager_installs_may_be_the_one_web_serves(
        tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "config").mkdir(parents=True)
    conf = data / "config" / "moonraker.conf"
    conf.write_text(f"[web]\npath: {data / 'mainsail'}\n[update_manager mainsail]\n"
                    f"type: web\nrepo: mainsail-crew/mainsail\npath: {data / 'mainsail'}\n")
    config = Config.load(conf, HostPolicy.load(None, data, conf))
    assert config.warnings == []
    assert config.raw("web")["path"] == str(data / "mainsail")
