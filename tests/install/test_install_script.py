"""scripts/install.sh, end to end on this machine.

The main test really installs: a fresh virtual environment, ``pip install`` of this
checkout (pip's cache and the configured indexes make it as fast as pip allows),
the data directory, the launcher; then it starts the installed launcher, talks HTTP to
it, stops it with SIGTERM and uninstalls. systemd is replaced by a fake ``systemctl``
on PATH (``SKYSAIL_SYSTEMD_RUNTIME_DIR`` / ``SKYSAIL_UNIT_DIR`` point into tmp), and
``--bin-dir`` keeps the launcher link out of /usr/local/bin, so nothing outside
tmp_path is touched.
"""

from __future__ import annotations

import configparser
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "install.sh"
INSTALL_TIMEOUT = 240

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux installer")


def clean_env(**extra: str | Path) -> dict[str, str]:
    """The caller's environment minus anything that would make the installed skysail
    import the checkout instead of its own venv."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.pop("VIRTUAL_ENV", None)
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PIP_NO_INPUT"] = "1"
    # no web client unless a test serves one (never a download from the internet)
    env["SKYSAIL_WEB"] = "none"
    env.update({k: str(v) for k, v in extra.items()})
    return env


def install(
    *args: str | Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), *map(str, args)],
        capture_output=True,
        text=True,
        env=env or clean_env(),
        timeout=INSTALL_TIMEOUT,
        check=False,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The one line an installer error prints (pip's index warnings are not ours)."""
    lines = [line for line in result.stderr.splitlines() if line.startswith("install.sh:")]
    assert len(lines) == 1, result.stderr
    return lines[0]


def read_conf(path: Path) -> configparser.ConfigParser:
    conf = configparser.ConfigParser(interpolation=None)
    conf.read(path, encoding="utf-8")
    return conf


def wait_for_info(
    url: str, proc: subprocess.Popen[bytes], timeout: float = 60
) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise AssertionError(f"skysail exited with {proc.returncode} before answering")
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:
                data: dict[str, object] = json.loads(reply.read())
                return data
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_install_run_uninstall(tmp_path: Path) -> None:
    prefix, data, bin_dir = tmp_path / "opt", tmp_path / "data", tmp_path / "bin"
    model = tmp_path / "model"  # pretend to be a Raspberry Pi: exercises the ws281x extra
    model.write_bytes(b"Raspberry Pi 4 Model B Rev 1.4\0")
    port = free_port()
    env = clean_env(SKYSAIL_DT_MODEL=model)
    result = install(
        "--prefix", prefix, "--data-dir", data, "--bin-dir", bin_dir,
        "--no-service", "--port", str(port), env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Raspberry Pi detected" in result.stdout

    launcher = prefix / "bin" / "skysail"
    assert os.access(launcher, os.X_OK)
    assert (bin_dir / "skysail").resolve() == launcher
    for sub in ("config", "gcodes", "logs", "database"):
        assert (data / sub).is_dir()
    conf = read_conf(data / "config" / "moonraker.conf")
    assert conf["server"]["port"] == str(port)
    assert conf["serial"]["port"] == "virtual"
    # a real install: the package lives in the venv, not as a link to the checkout
    site = next((prefix / "venv" / "lib").glob("python3*/site-packages"))
    assert (site / "gateway" / "hostlink" / "ports.py").is_file()
    assert not list(site.glob("__editable__*"))

    log = tmp_path / "skysail.out"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(launcher)], stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path, env=env
        )
        try:
            info = wait_for_info(f"http://127.0.0.1:{port}/server/info", proc)
            assert isinstance(info["result"], dict)
            assert info["result"]["moonraker_version"]
            # the running program is the venv's skysail on the install's data dir
            cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes().split(b"\0")
            assert str(prefix / "venv" / "bin" / "skysail").encode() in cmdline
            assert str(data).encode() in cmdline
            assert str(prefix / "host-policy.conf").encode() in cmdline
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=30) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert "Skysail listening" in (data / "logs" / "moonraker.log").read_text()

    result = install("--uninstall", "--prefix", prefix, "--data-dir", data, "--bin-dir", bin_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    assert not prefix.exists()
    assert not (bin_dir / "skysail").exists() and not (bin_dir / "skysail").is_symlink()
    assert not Path("/etc/systemd/system/skysail.service").is_file() or (
        f"{prefix}/venv" not in Path("/etc/systemd/system/skysail.service").read_text()
    )
    # only the data directory (kept) and the test's own files remain
    assert (data / "config" / "moonraker.conf").is_file()
    assert {p.name for p in tmp_path.iterdir()} == {"data", "bin", "model", "skysail.out"}
    assert not list(bin_dir.iterdir())


FAKE_SYSTEMCTL = """#!/bin/sh
echo "$*" >> "{log}"
case "$1" in
  is-active) echo inactive; exit 3 ;;
esac
exit 0
"""


def fake_systemd(tmp_path: Path) -> tuple[dict[str, str], Path, Path]:
    """An environment whose systemctl only records its arguments."""
    fake_bin, run_dir, units = tmp_path / "fakebin", tmp_path / "run-systemd", tmp_path / "units"
    for folder in (fake_bin, run_dir, units):
        folder.mkdir()
    calls = tmp_path / "systemctl.log"
    systemctl = fake_bin / "systemctl"
    systemctl.write_text(FAKE_SYSTEMCTL.format(log=calls))
    systemctl.chmod(0o755)
    env = clean_env(
        PATH=f"{fake_bin}:{os.environ['PATH']}",
        SKYSAIL_SYSTEMD_RUNTIME_DIR=run_dir,
        SKYSAIL_UNIT_DIR=units,
        XDG_CONFIG_HOME=tmp_path / "xdg",  # where a non-root run puts its user unit
    )
    unit_dir = units if os.geteuid() == 0 else tmp_path / "xdg" / "systemd" / "user"
    return env, unit_dir, calls


def test_instance_service_rerun_and_uninstall(tmp_path: Path) -> None:
    env, unit_dir, calls = fake_systemd(tmp_path)
    prefix, data, bin_dir = tmp_path / "opt", tmp_path / "ender_data", tmp_path / "bin"
    by_id = "/dev/serial/by-id/usb-1a86_USB_Serial-if00-port0"
    user = subprocess.run(["id", "-un"], capture_output=True, text=True, check=True).stdout.strip()
    args = (
        "--instance", "ender", "--prefix", prefix, "--data-dir", data, "--bin-dir", bin_dir,
        "--port", str(free_port()), "--serial", by_id, "--user", user,
    )
    result = install(*args, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert by_id in result.stderr  # warned: that port isn't plugged in here

    unit = unit_dir / "skysail-ender.service"
    text = unit.read_text()
    policy = prefix / "host-policy.conf"
    assert f"ExecStart={prefix}/venv/bin/skysail -d {data} --host-policy {policy}\n" in text
    assert f"WorkingDirectory={data}\n" in text
    if os.geteuid() == 0:
        assert f"User={user}\n" in text and "WantedBy=multi-user.target" in text
    assert "Restart=always" in text
    assert "LimitNOFILE=4096\n" in text
    logged = calls.read_text().splitlines()
    assert logged[-4:-1] == [
        "daemon-reload",
        "enable skysail-ender.service",
        "restart skysail-ender.service",
    ] or {"daemon-reload", "enable skysail-ender.service", "restart skysail-ender.service"} <= set(
        logged
    )
    assert (bin_dir / "skysail-ender").resolve() == prefix / "bin" / "skysail"
    conf_path = data / "config" / "moonraker.conf"
    assert read_conf(conf_path)["serial"]["port"] == by_id
    # the port is allowed in the host policy, outside the data directory (the API
    # cannot change it); a second run lists it once
    assert read_conf(policy)["serial"]["port"].split() == [by_id]

    # again: the venv is reused, the config (with the user's edits) kept
    with conf_path.open("a") as conf:
        conf.write("\n# my own note\n")
    result = install(*args, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Reusing virtual environment" in result.stdout
    assert "# my own note" in conf_path.read_text()
    assert unit.read_text() == text
    assert read_conf(policy)["serial"]["port"].split() == [by_id]

    result = install("--uninstall", "--instance", "ender", "--prefix", prefix,
                     "--bin-dir", bin_dir, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "disable --now skysail-ender.service" in calls.read_text()
    assert not unit.exists() and not prefix.exists() and not (bin_dir / "skysail-ender").exists()
    assert conf_path.is_file()

    result = install("--uninstall", "--purge", "--instance", "ender", "--prefix", prefix,
                     "--data-dir", data, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert not data.exists()


def test_unit_of_another_installation_is_not_taken_over(tmp_path: Path) -> None:
    env, unit_dir, _ = fake_systemd(tmp_path)
    unit_dir.mkdir(parents=True, exist_ok=True)
    (unit_dir / "skysail.service").write_text(
        "[Service]\nExecStart=/opt/skysail/venv/bin/skysail -d /home/pi/printer_data\n"
    )
    result = install("--prefix", tmp_path / "opt", "--data-dir", tmp_path / "data", env=env)
    assert result.returncode == 1
    assert "--instance" in error_line(result)
    assert not (tmp_path / "opt").exists()


def test_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = install("--prefix", tmp_path / "opt", "--data-dir", tmp_path / "data",
                         "--no-service", "--port", str(port))
    assert result.returncode == 1
    line = error_line(result)
    assert f"port {port} is already in use" in line
    assert not (tmp_path / "opt").exists() and not (tmp_path / "data").exists()


@pytest.mark.parametrize("how", ["option", "env"])
def test_python_too_old_is_a_clear_error(tmp_path: Path, how: str) -> None:
    fake = tmp_path / "python3.9"
    fake.write_text("#!/bin/sh\necho 3.9.18\n")
    fake.chmod(0o755)
    args = ["--prefix", tmp_path / "opt", "--data-dir", tmp_path / "data", "--no-service"]
    if how == "option":
        result = install(*args, "--python", fake)
    else:
        result = install(*args, env=clean_env(PYTHON=fake))
    assert result.returncode == 1
    line = error_line(result)
    assert "Python 3.9.18" in line and ">= 3.11" in line
    assert not (tmp_path / "opt").exists()


def test_prefix_without_permission_is_a_clear_error(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root and setpriv (util-linux) is missing: can't drop rights")
        # /opt belongs to root, so user nobody may not create anything in it
        prefix = Path("/opt/skysail-permission-test")
        assert not prefix.exists()
        cmd = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o555)
        prefix, cmd = locked / "skysail", []
    result = subprocess.run(
        [*cmd, "bash", str(SCRIPT), "--prefix", str(prefix), "--data-dir", "/tmp/unused",
         "--no-service"],
        capture_output=True, text=True, env=clean_env(HOME="/nonexistent"), timeout=60,
        check=False,
    )
    assert result.returncode == 1
    line = error_line(result)
    assert "no permission" in line and str(prefix) in line
    assert not prefix.exists()


def test_help_and_bad_options() -> None:
    result = install("--help")
    assert result.returncode == 0
    for option in ("--prefix", "--data-dir", "--instance", "--port", "--serial", "--user",
                   "--no-service", "--uninstall", "--purge", "--python"):
        assert option in result.stdout
    for bad in (["--frobnicate"], ["--port", "seventy"], ["--instance", "a b"], ["--purge"],
                ["--prefix"]):
        result = install(*bad)
        assert result.returncode == 2, (bad, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_uninstall_keeps_what_it_did_not_make(tmp_path: Path) -> None:
    prefix = tmp_path / "opt"
    (prefix / "venv" / "bin").mkdir(parents=True)
    (prefix / "venv" / "bin" / "skysail").touch()
    (prefix / "notes.txt").write_text("mine\n")
    other = tmp_path / "project"  # someone else's venv is not ours to remove
    (other / "venv" / "bin").mkdir(parents=True)
    result = install("--uninstall", "--prefix", other, "--bin-dir", "")
    assert result.returncode == 0 and "Nothing installed" in result.stdout
    assert (other / "venv" / "bin").is_dir()
    not_data = tmp_path / "photos"
    not_data.mkdir()
    result = install("--uninstall", "--prefix", prefix, "--bin-dir", "")
    assert result.returncode == 0, result.stderr
    assert (prefix / "notes.txt").is_file() and not (prefix / "venv").exists()
    result = install("--uninstall", "--purge", "--prefix", prefix, "--data-dir", not_data,
                     "--bin-dir", "")
    assert result.returncode == 1
    assert "doesn't look like a Skysail data directory" in error_line(result)
    assert not_data.is_dir()


def test_shellcheck() -> None:
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        pytest.skip("shellcheck is not installed (apt-get install shellcheck)")
    scripts = sorted(str(p) for p in (REPO / "scripts").glob("*.sh"))
    assert scripts
    result = subprocess.run(
        [shellcheck, *scripts], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
