"""machine.services.*, machine.reboot/shutdown and machine.sudo.*.

Skysail manages one service, its own, and only under systemd (restart only, as Moonraker
does for itself). Reboot and shutdown of the host are off unless `[machine]
allow_reboot: True`. Nothing is ever run with sudo.
"""

from __future__ import annotations

import asyncio
import getpass
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from gateway.errors import BadRequest, Forbidden, ServerError
from gateway.registry import Params
from gateway.request import Request
from gateway.tasks import Background

if TYPE_CHECKING:
    from gateway.api import ServerApi

log = logging.getLogger(__name__)

# names a client may use for us: Mainsail and Fluidd know the service as "moonraker"
OWN_NAMES = ("skysail", "moonraker")
COMMAND_TIMEOUT = 30.0
SHUTDOWN_ACTIONS = ("poweroff", "halt")

CommandRunner = Callable[[list[str]], Awaitable[tuple[int, str]]]


class MachineSection(msgspec.Struct, kw_only=True):
    # machine.reboot / machine.shutdown are refused unless this is True
    allow_reboot: bool = False
    # what machine.shutdown does: poweroff or halt
    shutdown_action: str = "poweroff"

    def __post_init__(self) -> None:
        if self.shutdown_action not in SHUTDOWN_ACTIONS:
            raise ValueError(
                f"option 'shutdown_action': expected poweroff or halt, got {self.shutdown_action}"
            )


def has_systemd(run_root: str = "/run") -> bool:
    """systemd's own test (sd_booted): it is the init system if this folder exists."""
    return Path(run_root, "systemd", "system").is_dir()


def own_unit(proc_root: str = "/proc") -> str | None:
    """The systemd unit this process runs in ("skysail.service"), from its cgroup."""
    try:
        text = Path(proc_root, "self", "cgroup").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        path = line.rsplit(":", 1)[-1]
        for part in reversed(path.split("/")):
            if part.endswith(".service"):
                return part
    return None


async def run_command(argv: list[str]) -> tuple[int, str]:
    """Run a command without a shell; (exit status, combined output)."""
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
    except OSError as exc:
        return 127, str(exc)
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), COMMAND_TIMEOUT)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return -1, f"{argv[0]} did not finish within {COMMAND_TIMEOUT:.0f} s"
    return proc.returncode or 0, out.decode(errors="replace").strip()


class MachineServices:
    def __init__(
        self,
        server: ServerApi,
        *,
        run_root: str = "/run",
        proc_root: str = "/proc",
    ) -> None:
        self.server = server
        self.settings = server.config.section("machine", MachineSection)
        self.systemd = has_systemd(run_root)
        self.unit = own_unit(proc_root) if self.systemd else None
        # replaceable (tests): how commands are run
        self.run_command: CommandRunner = run_command
        self._tasks = Background("service restart", logger=log)
        reg = server.register_endpoint
        for action in ("restart", "stop", "start"):
            reg(
                f"machine.services.{action}",
                self._service_handler(action),
                params=ServiceArgs,
                http=f"POST /machine/services/{action}",
            )
        reg("machine.reboot", self.reboot, http="POST /machine/reboot")
        reg("machine.shutdown", self.shutdown, http="POST /machine/shutdown")
        reg("machine.sudo.info", self.sudo_info, http="GET /machine/sudo/info")
        reg("machine.sudo.password", self.sudo_password, http="POST /machine/sudo/password")

    @property
    def own_names(self) -> tuple[str, ...]:
        names: tuple[str, ...] = OWN_NAMES
        if self.unit is not None:
            stem = self.unit.removesuffix(".service")
            names = (*names, stem, self.unit)
        return names

    # -- services --------------------------------------------------------------------

    def _service_handler(self, action: str) -> Callable[[ServiceArgs, Request], str]:
        def handler(args: ServiceArgs, request: Request) -> str:
            return self.service_action(action, args.service)

        return handler

    def service_action(self, action: str, name: str) -> str:
        if name not in self.own_names:
            raise BadRequest(f"Service '{name}' not allowed")
        if not self.systemd:
            raise ServerError(
                "No service manager: this host does not run systemd, so Skysail cannot "
                "manage its service (use server.restart to restart the server)",
                503,
            )
        if self.unit is None:
            raise ServerError(
                "Skysail is not running as a systemd service (use server.restart to "
                "restart the server)",
                503,
            )
        if action != "restart":
            raise BadRequest(f"Service action '{action}' not available for {name}")
        # answer first: the restart ends this process
        self._spawn(self._restart_unit(self.unit))
        return "ok"

    async def _restart_unit(self, unit: str) -> None:
        status, output = await self.run_command(["systemctl", "restart", unit])
        if status != 0:
            # systemd refused (no polkit rule for our user): restart in-process instead
            log.warning("systemctl restart %s failed (%s): restarting in-process", unit, output)
            self.server.request_stop(restart=True)

    # -- host power ------------------------------------------------------------------

    def _power_command(self, reboot: bool) -> list[str]:
        if self.systemd:
            return ["systemctl", "reboot" if reboot else self.settings.shutdown_action]
        if reboot:
            return ["shutdown", "-r", "now"]
        return ["shutdown", "-H" if self.settings.shutdown_action == "halt" else "-P", "now"]

    async def _power(self, reboot: bool) -> str:
        what = "reboot" if reboot else "shutdown"
        if not self.settings.allow_reboot:
            raise Forbidden(
                f"Machine {what} is disabled: set 'allow_reboot: True' in the [machine] "
                "section of the configuration to allow it"
            )
        argv = self._power_command(reboot)
        log.warning("machine %s requested: running %s", what, " ".join(argv))
        status, output = await self.run_command(argv)
        if status != 0:
            raise ServerError(f"Machine {what} failed: {output or f'exit status {status}'}")
        return "ok"

    async def reboot(self, request: Request) -> str:
        return await self._power(reboot=True)

    async def shutdown(self, request: Request) -> str:
        return await self._power(reboot=False)

    # -- sudo ------------------------------------------------------------------------

    def sudo_info(self, request: Request) -> dict[str, object]:
        return {
            "sudo_access": False,
            "linux_user": _linux_user(),
            "sudo_requested": False,
            "request_messages": [],
        }

    def sudo_password(self, request: Request) -> dict[str, object]:
        raise BadRequest("Skysail does not use sudo: no password is needed or accepted")

    def _spawn(self, awaitable: Awaitable[None]) -> None:
        self._tasks.spawn(awaitable)


class ServiceArgs(Params):
    service: str


def _linux_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""
