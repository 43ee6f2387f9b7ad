"""The queue driving prints in the real server, with a STAND-IN printer.

`StandInPrinter` implements components.printer.api.PrinterApi and emits the documented
job events; each test replaces the real printer component with it so that the test
decides when a print ends and how. It exists ONLY here, ONLY until the queue's
end-to-end run on the virtual printer is in place (the lead adds it); the queue itself
uses nothing but PrinterApi and the events, so it runs unchanged on the real printer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from components.printer.api import (
    CommandHandler,
    JobFinished,
    JobStarted,
    PrinterApi,
    SdCardState,
    SerialPort,
)
from gateway.errors import Conflict, ServerError
from gateway.events import EventBus
from tests.harness import RunningServer, running_server
from tests.queue.conftest import make_gcodes, wait_until


class StandInPrinter:
    """Stand-in for the printer component (tests only, see the module docstring)."""

    moonraker_names: tuple[str, ...] = ()

    def __init__(self, events: EventBus) -> None:
        self.events = events
        self._state = "ready"
        self.print_state = "standby"
        self.current: str | None = None
        self.started: list[str] = []
        self.scripts: list[str] = []
        self.failing_gcode: str | None = None

    @property
    def state(self) -> str:
        return self._state

    def query_status(
        self, objects: Mapping[str, Iterable[str] | None]
    ) -> dict[str, dict[str, Any]]:
        return {"print_stats": {"state": self.print_state, "filename": self.current or ""}}

    def check_gcode(self, script: str) -> None:
        pass

    async def run_gcode(self, script: str) -> None:
        self.scripts.append(script)
        if self.failing_gcode is not None and self.failing_gcode in script:
            raise ServerError(f"Unknown command: {self.failing_gcode}", 400)

    async def start_print(self, filename: str) -> None:
        if self.current is not None:
            raise Conflict("A print is already in progress")
        self.current = filename
        self.print_state = "printing"
        self.started.append(filename)
        self.events.emit(JobStarted(filename))

    def finish(self, status: str = "completed") -> None:
        filename = self.current
        assert filename is not None, "nothing is printing"
        self.current = None
        self.print_state = {"completed": "complete"}.get(status, status)
        self.events.emit(JobFinished(filename, status, print_duration=1.0,
                                     total_duration=1.0))

    def register_command(self, name: str, handler: CommandHandler, description: str) -> None:
        return None

    def unregister_command(self, name: str) -> None:
        return None

    def add_object(self, name: str, fields: dict[str, Any]) -> None:
        return None

    def respond(self, line: str) -> None:
        pass

    def filament_extruded(self) -> float:
        return 0.0

    def add_config_section(
        self, name: str, config: dict[str, str], settings: dict[str, Any]
    ) -> None:
        pass

    async def pause_print(self) -> None:
        pass

    async def resume_print(self) -> None:
        pass

    async def cancel_print(self) -> None:
        self.finish("cancelled")

    async def connect(self) -> None:
        pass

    async def disconnect(self) -> None:
        pass

    def update_object(self, name: str, fields: Mapping[str, Any]) -> None:
        return None

    @property
    def serial_port(self) -> SerialPort:
        return SerialPort("virtual", 250000)

    def temperature_sensors(self) -> None:
        return None

    def has_capability(self, name: str) -> bool:
        return False

    async def send_firmware(self, script: str) -> list[str]:
        self.scripts.append(script)
        return []

    async def read_mesh(self, script: str) -> None:
        self.scripts.append(script)
        return None

    async def power_supply_state(self) -> bool | None:
        return None

    def sd_card(self) -> SdCardState:
        return SdCardState()

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


def config(extra: str = "") -> str:
    return f"""
[server]
host: 127.0.0.1
port: 0

[serial]
port: virtual
virtual_time_scale: 25
{extra}
"""


@asynccontextmanager
async def server_with_standin(
    data_dir: Path, extra: str = ""
) -> AsyncIterator[tuple[RunningServer, StandInPrinter]]:
    async with running_server(data_dir, config(extra)) as srv:
        real: Any = srv.server.components["printer"]
        # let the real printer finish connecting (stopping it mid-handshake leaves an
        # unretrieved future in the link), then the stand-in takes its place
        await wait_until(lambda: real.state == "ready", what="real printer ready")
        await real.stop()
        printer = StandInPrinter(srv.server.events)
        assert isinstance(printer, PrinterApi)
        srv.server.provide(PrinterApi, printer)
        yield srv, printer


def queue_of(srv: RunningServer) -> Any:
    return srv.server.components["queue"]


AUTO = """
[job_queue]
automatic_transition: true
job_transition_gcode: M117 next
"""


async def test_three_jobs_with_counts_print_in_order(tmp_path: Path) -> None:
    make_gcodes(tmp_path, "a.gcode", "b.gcode", "c.gcode")
    async with server_with_standin(tmp_path, AUTO) as (srv, printer):
        ws = await srv.websocket()
        for path, count in (("a.gcode", 2), ("b.gcode", 1), ("c.gcode", 3)):
            await ws.call("continuousprint.set.add",
                          {"path": path, "count": count, "jobDraft": False})
        await ws.call("server.job_queue.start")
        expected = ["a.gcode", "a.gcode", "b.gcode", "c.gcode", "c.gcode", "c.gcode"]
        for n, name in enumerate(expected, start=1):
            await wait_until(lambda n=n: len(printer.started) == n, what=f"print {n}")
            assert printer.started[-1] == name
            state = await ws.call("continuousprint.state.get")
            acquired = [j["sets"][0]["path"] for j in state["queues"][0]["jobs"]
                        if j["acquired"]]
            assert acquired == [name] and state["status"] == "Printing"
            printer.finish()
        await wait_until(lambda: not queue_of(srv).state.jobs, what="queue drained")
        # the transition G-code ran between queue prints, not before the first
        assert printer.scripts == ["M117 next"] * (len(expected) - 1)
        loaded = [n for n in ws.notifications if n["method"] == "notify_job_queue_changed"
                  and n["params"][0]["action"] == "job_loaded"]
        assert len(loaded) == len(expected)
        assert (await ws.call("server.job_queue.status"))["queued_jobs"] == []


async def test_gate_waits_for_confirmation_after_the_clear_bed_script(tmp_path: Path) -> None:
    make_gcodes(tmp_path, "a.gcode", "b.gcode")
    extra = AUTO + """
[queue]
clear_bed_gcode: SWEEP SPEED={external.speed}
require_bed_clear: true
"""
    async with server_with_standin(tmp_path, extra) as (srv, printer):
        ws = await srv.websocket()
        reply = await srv.http.post("/plugin/continuousprint/automation/external",
                                    json={"speed": 120})
        assert reply.status == 200
        await ws.call("server.job_queue.post_job", {"filenames": ["a.gcode", "b.gcode"]})
        await ws.call("server.job_queue.start")
        await wait_until(lambda: printer.started == ["a.gcode"], what="first print")
        printer.finish()
        await wait_until(lambda: "SWEEP SPEED=120" in printer.scripts, what="clear bed")
        await ws.wait_notification("notify_gcode_response",
                                   lambda n: "cleared" in n["params"][0])
        status = await ws.call("server.job_queue.status")
        assert status["queue_state"] == "paused"
        assert [j["filename"] for j in status["queued_jobs"]] == ["b.gcode"]
        cp = await ws.call("continuousprint.state.get")
        assert cp["active"] is True and cp["statusType"] == "NEEDS_ACTION"
        assert printer.started == ["a.gcode"]  # held
        # Continuous Print's set_active confirms as well as server.job_queue.start
        reply = await srv.http.post("/plugin/continuousprint/set_active",
                                    body="active=true",
                                    headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert reply.status == 200
        await wait_until(lambda: printer.started == ["a.gcode", "b.gcode"], what="second")
        assert printer.scripts == ["SWEEP SPEED=120", "M117 next"]


async def test_cancel_pauses_and_keeps_the_count(tmp_path: Path) -> None:
    make_gcodes(tmp_path, "a.gcode", "b.gcode")
    async with server_with_standin(tmp_path, AUTO) as (srv, printer):
        ws = await srv.websocket()
        await ws.call("continuousprint.set.add",
                      {"path": "a.gcode", "count": 2, "jobDraft": False})
        await ws.call("server.job_queue.start")
        await wait_until(lambda: printer.started == ["a.gcode"], what="first print")
        seen = len(ws.notifications)
        printer.finish("cancelled")
        await ws.wait_notification(
            "notify_job_queue_changed",
            lambda n: n["params"][0]["queue_state"] == "paused", start=seen)
        cp = await ws.call("continuousprint.state.get")
        assert cp["active"] is False and "cancelled" in cp["status"]
        assert cp["queues"][0]["jobs"][0]["sets"][0]["remaining"] == 2
        assert printer.started == ["a.gcode"]


async def test_deleted_file_is_skipped_and_the_queue_moves_on(tmp_path: Path) -> None:
    make_gcodes(tmp_path, "a.gcode", "b.gcode", "c.gcode")
    async with server_with_standin(tmp_path, AUTO) as (srv, printer):
        ws = await srv.websocket()
        await ws.call("server.job_queue.post_job",
                      {"filenames": ["a.gcode", "b.gcode", "c.gcode"]})
        await ws.call("server.job_queue.start")
        await wait_until(lambda: printer.started == ["a.gcode"], what="first print")
        assert (await srv.http.delete("/server/files/gcodes/b.gcode")).status == 200
        await ws.wait_notification("notify_gcode_response",
                                   lambda n: "b.gcode was deleted" in n["params"][0])
        printer.finish()
        await wait_until(lambda: printer.started == ["a.gcode", "c.gcode"], what="c next")


async def test_restart_mid_print_is_reported_interrupted_not_repeated(tmp_path: Path) -> None:
    make_gcodes(tmp_path, "a.gcode")
    async with server_with_standin(tmp_path, AUTO) as (srv, printer):
        ws = await srv.websocket()
        await ws.call("continuousprint.set.add",
                      {"path": "a.gcode", "count": 3, "jobDraft": False})
        await ws.call("server.job_queue.start")
        await wait_until(lambda: printer.started == ["a.gcode"], what="first print")
        printer.finish()
        await wait_until(lambda: printer.started == ["a.gcode"] * 2, what="second print")
        # the server stops while the second copy prints
    async with server_with_standin(tmp_path, AUTO) as (srv, printer):
        ws = await srv.websocket()
        cp = await ws.call("continuousprint.state.get")
        assert cp["active"] is False and cp["statusType"] == "NEEDS_ACTION"
        assert cp["interrupted"]["path"] == "a.gcode"
        assert cp["status"].startswith("Interrupted: a.gcode")
        (qset,) = cp["queues"][0]["jobs"][0]["sets"]
        assert (qset["remaining"], qset["completed"]) == (2, 1)  # not counted, not skipped
        status = await ws.call("server.job_queue.status")
        assert status["queue_state"] == "paused"
        assert printer.started == []  # nothing restarted by itself
        await ws.call("server.job_queue.start")  # the user resumes
        await wait_until(lambda: printer.started == ["a.gcode"], what="resumed print")
        cp = await ws.call("continuousprint.state.get")
        assert cp["interrupted"] is None
