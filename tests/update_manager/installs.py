"""Real installations for update tests: a bare "origin" repository holding this
checkout's sources, a clone of it as Skysail's install checkout, environments built by
the update manager's own code, and Skysail started from them as a separate process.

pip runs offline from a wheelhouse of the dependencies (built once per session from
pip's cache), so an install takes seconds and the tests never reach PyPI."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# what `pip install` of Skysail needs from the checkout
SOURCES = ("pyproject.toml", "README.md", "gateway", "components", "test/client")
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")


def git(cwd: Path, *args: str) -> str:
    env = dict(os.environ, GIT_AUTHOR_NAME="Tester", GIT_AUTHOR_EMAIL="t@example.invalid",
               GIT_COMMITTER_NAME="Tester", GIT_COMMITTER_EMAIL="t@example.invalid")
    return subprocess.run(["git", "-C", str(cwd), *args], check=True, capture_output=True,
                          text=True, env=env).stdout.strip()


def build_wheelhouse(dest: Path) -> Path:
    """Wheels of Skysail's dependencies and build tools, for offline installs."""
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    reqs = [*project["project"]["dependencies"], *project["build-system"]["requires"], "pip"]
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "-w", str(dest), *reqs],
                   check=True, capture_output=True, timeout=600)
    return dest


def offline_pip_env(wheelhouse: Path) -> dict[str, str]:
    return {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(wheelhouse),
            "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


def make_repos(root: Path) -> tuple[Path, Path, Path]:
    """(origin.git, seed, checkout): seed and checkout are clones of origin at one commit
    with this checkout's sources; new commits are made in seed and pushed."""
    origin, seed, checkout = root / "origin.git", root / "seed", root / "checkout"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], check=True)
    seed.mkdir()
    git(seed, "init", "-q", "-b", "main")
    for name in SOURCES:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, seed / name, ignore=IGNORE)
        else:
            (seed / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, seed / name)
    git(seed, "add", "-A")
    git(seed, "commit", "-q", "-m", "Skysail as installed")
    git(seed, "remote", "add", "origin", str(origin))
    git(seed, "push", "-q", "-u", "origin", "main")
    subprocess.run(["git", "clone", "-q", str(origin), str(checkout)], check=True)
    return origin, seed, checkout


def commit(seed: Path, message: str, files: dict[str, str]) -> str:
    for name, text in files.items():
        (seed / name).write_text(text)
    git(seed, "add", "-A")
    git(seed, "commit", "-q", "-m", message)
    git(seed, "push", "-q", "origin", "main")
    return git(seed, "rev-parse", "HEAD")


def set_version(seed: Path, version: str) -> dict[str, str]:
    text = (seed / "pyproject.toml").read_text()
    return {"pyproject.toml": re.sub(r'(?m)^version = "[^"]+"', f'version = "{version}"', text)}


class SkysailProcess:
    """`PREFIX/venv/bin/skysail -d DATA -n`, as the service runs it."""

    def __init__(self, prefix: Path, data: Path, env: dict[str, str]) -> None:
        self.prefix = prefix
        self.data = data
        self.env = env
        self.log = data / "stderr.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0

    def start(self, timeout: float = 60) -> None:
        env = {k: v for k, v in os.environ.items()
               if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
        env.update(self.env, PYTHONUNBUFFERED="1")
        # as scripts/install.sh's unit: the host policy beside the venv, when there is one
        policy = self.prefix / "host-policy.conf"
        extra = ["--host-policy", str(policy)] if policy.is_file() else []
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [str(self.prefix / "venv" / "bin" / "skysail"), "-d", str(self.data), "-n",
                 *extra],
                stdout=subprocess.DEVNULL, stderr=out, env=env, cwd=self.data)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = re.search(r"listening on [\d.]+:(\d+)", self.output)
            if match:
                self.port = int(match.group(1))
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("skysail did not start:\n" + self.output)

    @property
    def output(self) -> str:
        return self.log.read_text(errors="replace")

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
