"""Runs the programs an update needs (git, pip, apt) as asyncio subprocesses: the event
loop that feeds the printer never waits on them, and their output arrives line by line
for the progress messages the frontends show."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

# a line of output (stdout and stderr merged), without its newline
LineCallback = Callable[[str], None]

# kept from a command's output for error messages (the tail is what explains a failure)
KEEP_LINES = 60


class CommandFailed(Exception):
    def __init__(self, argv: Sequence[str], status: int | None, output: str) -> None:
        what = "timed out" if status is None else f"exited with {status}"
        tail = output.strip().splitlines()[-1:] or [""]
        super().__init__(f"{Path(argv[0]).name} {what}: {tail[0]}".rstrip(": "))
        self.argv = list(argv)
        self.status = status
        self.output = output


@dataclass(slots=True)
class Result:
    status: int
    output: str


def quiet_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for update commands: never prompt (no terminal to answer on),
    plain C-locale messages we can parse."""
    env = dict(os.environ)
    env.update({"GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "true", "LC_ALL": "C",
                "LANG": "C", "PIP_NO_INPUT": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1",
                "DEBIAN_FRONTEND": "noninteractive", "PYTHONUNBUFFERED": "1"})
    # a child Python must import its own packages, never ours
    for name in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "SKYSAIL_LISTEN_FDS"):
        env.pop(name, None)
    env.update(extra or {})
    return env


async def run(
    argv: Sequence[str],
    *,
    cwd: Path | None = None,
    timeout: float = 60.0,
    on_line: LineCallback | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = True,
) -> Result:
    """Run `argv`, stdout and stderr merged; each line goes to `on_line` as it comes.
    Raises CommandFailed on a non-zero exit (if `check`) or on timeout (the process
    group is killed, so pip's or apt's children go too)."""
    proc = await asyncio.create_subprocess_exec(
        *argv,
        cwd=str(cwd) if cwd else None,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=quiet_env(env),
        start_new_session=True,
    )
    assert proc.stdout is not None
    lines: list[str] = []

    async def read() -> None:
        assert proc.stdout is not None
        while True:
            raw = await proc.stdout.readline()
            if not raw:
                return
            # pip and apt draw progress with carriage returns: the last state counts
            text = raw.decode(errors="replace").rstrip("\r\n").rsplit("\r", 1)[-1]
            lines.append(text)
            if len(lines) > KEEP_LINES:
                del lines[0]
            if on_line is not None and text.strip():
                on_line(text)

    try:
        async with asyncio.timeout(timeout):
            await read()
            status = await proc.wait()
    except TimeoutError:
        _kill_group(proc)
        with contextlib.suppress(Exception):
            await proc.wait()
        raise CommandFailed(argv, None, "\n".join(lines)) from None
    except asyncio.CancelledError:
        _kill_group(proc)
        raise
    output = "\n".join(lines)
    if check and status != 0:
        raise CommandFailed(argv, status, output)
    return Result(status, output)


def _kill_group(proc: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, 9)


async def capture(
    argv: Sequence[str], *, cwd: Path | None = None, timeout: float = 60.0,
    check: bool = True,
) -> Result:
    """A query (git rev-parse, git log, apt list): all of stdout, stderr apart (shown only
    when the command fails)."""
    proc = await asyncio.create_subprocess_exec(
        *argv,
        cwd=str(cwd) if cwd else None,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=quiet_env(),
        start_new_session=True,
    )
    try:
        async with asyncio.timeout(timeout):
            out, err = await proc.communicate()
    except TimeoutError:
        _kill_group(proc)
        with contextlib.suppress(Exception):
            await proc.wait()
        raise CommandFailed(argv, None, "") from None
    status = proc.returncode if proc.returncode is not None else -1
    if check and status != 0:
        raise CommandFailed(argv, status, err.decode(errors="replace"))
    return Result(status, out.decode(errors="replace"))


async def output(argv: Sequence[str], *, cwd: Path | None = None, timeout: float = 60.0) -> str:
    """stdout of a command that must succeed, stripped."""
    return (await capture(argv, cwd=cwd, timeout=timeout)).output.strip()
