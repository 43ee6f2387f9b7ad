"""machine.services.*, machine.reboot/shutdown, machine.sudo.*: refused unless allowed,
and never a real command in a test (the runner is replaced before any call that would
run one)."""

from __future__ import annotations

import getpass
from pathlib import Path

import pytest

from components.machine.component import Machine
from components.machine.services import MachineServices, has_systemd, own_unit
from gateway.app import Server, ServerOptions
from gateway.config import ConfigError
from tests.harness import RpcError, RunningServer, running_server, write_config

from .conftest import CONFIG, wait_for


def services_of(srv: RunningServer) -> MachineServices:
    machine = srv.server.components["machine"]
    assert isinstance(machine, Machine)
    return machine.services


class FakeRunner:
    def __init__(self, status: int = 0, output: str = "") -> None:
        self.calls: list[list[str]] = []
        self.status = status
        self.output = output

    async def __call__(self, argv: list[str]) -> tuple[int, str]:
        self.calls.append(argv)
        return self.status, self.output


def no_commands(srv: RunningServer) -> FakeRunner:
    runner = FakeRunner(1, "a test must not run this")
    services_of(srv).run_command = runner
    return runner


async def test_reboot_and_shutdown_refused_by_default(srv: RunningServer) -> None:
    runner = no_commands(srv)
    ws = await srv.websocket()
    for what in ("reboot", "shutdown"):
        reply = await srv.http.post(f"/machine/{what}")
        assert reply.status == 403
        message = reply.json()["error"]["message"]
        assert message == (
            f"Machine {what} is disabled: set 'allow_reboot: True' in the [machine] "
            "section of the configuration to allow it")
        with pytest.raises(RpcError) as err:
            await ws.call(f"machine.{what}")
        assert (err.value.code, err.value.message) == (403, message)
    assert runner.calls == []


@pytest.mark.parametrize(
    ("systemd", "action", "argv"),
    [
        (True, "reboot", ["systemctl", "reboot"]),
        (True, "shutdown", ["systemctl", "poweroff"]),
        (False, "reboot", ["shutdown", "-r", "now"]),
        (False, "shutdown", ["shutdown", "-P", "now"]),
    ],
)
async def test_reboot_and_shutdown_when_allowed(
    tmp_path: Path, systemd: bool, action: str, argv: list[str]
) -> None:
    async with running_server(tmp_path, CONFIG + "\n[machine]\nallow_reboot: True\n") as srv:
        runner = FakeRunner()
        services = services_of(srv)
        services.run_command = runner
        services.systemd = systemd
        reply = await srv.http.post(f"/machine/{action}")
        assert reply.json() == {"result": "ok"}
        assert runner.calls == [argv]
        runner.status, runner.output = 1, "Failed to talk to init daemon."
        ws = await srv.websocket()
        with pytest.raises(RpcError) as err:
            await ws.call(f"machine.{action}")
        assert (err.value.code, err.value.message) == (
            500, f"Machine {action} failed: Failed to talk to init daemon.")


async def test_halt_as_shutdown_action(tmp_path: Path) -> None:
    config = CONFIG + "\n[machine]\nallow_reboot: True\nshutdown_action: halt\n"
    async with running_server(tmp_path, config) as srv:
        runner = FakeRunner()
        services = services_of(srv)
        services.run_command = runner
        services.systemd = True
        await srv.http.post("/machine/shutdown")
        services.systemd = False
        await srv.http.post("/machine/shutdown")
        assert runner.calls == [["systemctl", "halt"], ["shutdown", "-H", "now"]]


def test_bad_machine_section_stops_start_up(tmp_path: Path) -> None:
    write_config(tmp_path, CONFIG + "\n[machine]\nshutdown_action: sleep\n")
    with pytest.raises(ConfigError) as err:
        Server(ServerOptions(data_dir=tmp_path))
    assert str(err.value) == (
        "[machine] option 'shutdown_action': expected poweroff or halt, got sleep")


async def test_services_without_a_service_manager(srv: RunningServer) -> None:
    runner = no_commands(srv)
    services = services_of(srv)
    services.systemd, services.unit = False, None
    ws = await srv.websocket()
    with pytest.raises(RpcError) as err:
        await ws.call("machine.services.restart", {"service": "klipper"})
    assert (err.value.code, err.value.message) == (400, "Service 'klipper' not allowed")
    reply = await srv.http.post("/machine/services/restart?service=moonraker")
    assert reply.status == 503
    assert reply.json()["error"]["message"].startswith(
        "No service manager: this host does not run systemd")
    services.systemd = True
    reply = await srv.http.post("/machine/services/stop", json={"service": "skysail"})
    assert reply.status == 503
    assert reply.json()["error"]["message"].startswith(
        "Skysail is not running as a systemd service")
    assert runner.calls == []


async def test_own_service_under_systemd(srv: RunningServer) -> None:
    runner = FakeRunner()
    services = services_of(srv)
    services.run_command = runner
    services.systemd, services.unit = True, "skysail-printer2.service"
    ws = await srv.websocket()
    for name in ("moonraker", "skysail-printer2"):
        for action in ("stop", "start"):
            with pytest.raises(RpcError) as err:
                await ws.call(f"machine.services.{action}", {"service": name})
            assert (err.value.code, err.value.message) == (
                400, f"Service action '{action}' not available for {name}")
    assert await ws.call("machine.services.restart", {"service": "skysail-printer2"}) == "ok"
    await wait_for(lambda: runner.calls == [["systemctl", "restart", "skysail-printer2.service"]])
    assert srv.server.restart_requested is False
    # systemd refuses (no permission): the server restarts itself in-process instead
    runner.status = 1
    assert await ws.call("machine.services.restart", {"service": "moonraker"}) == "ok"
    await wait_for(lambda: srv.server.restart_requested)


async def test_sudo(srv: RunningServer) -> None:
    reply = await srv.http.get("/machine/sudo/info")
    assert reply.json()["result"] == {
        "sudo_access": False,
        "linux_user": getpass.getuser(),
        "sudo_requested": False,
        "request_messages": [],
    }
    ws = await srv.websocket()
    with pytest.raises(RpcError) as err:
        await ws.call("machine.sudo.password", {"password": "hunter2"})
    assert (err.value.code, err.value.message) == (
        400, "Skysail does not use sudo: no password is needed or accepted")


def test_service_manager_detection(tmp_path: Path) -> None:
    assert has_systemd(str(tmp_path)) is False
    (tmp_path / "systemd" / "system").mkdir(parents=True)
    assert has_systemd(str(tmp_path)) is True
    proc = tmp_path / "proc"
    assert own_unit(str(proc)) is None
    (proc / "self").mkdir(parents=True)
    (proc / "self" / "cgroup").write_text("0::/user.slice/user-1000.slice/session-3.scope\n")
    assert own_unit(str(proc)) is None
    (proc / "self" / "cgroup").write_text(
        "12:pids:/system.slice/skysail.service\n0::/system.slice/skysail.service\n")
    assert own_unit(str(proc)) == "skysail.service"
