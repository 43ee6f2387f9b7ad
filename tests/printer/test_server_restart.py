"""server.restart keeps the printer: the serial link and a running print outlive the
server generation (a reopened USB port resets the board and kills the print). Only a
changed [serial] section connects again, and not while a print runs."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from components.printer.api import JobFinished
from components.printer.component import Printer
from gateway.app import Server, ServerOptions
from gateway.logs import LogManager
from gateway.runner import serve
from tests.harness import Http, Websocket, wait_for, write_config
from tests.printer.conftest import FAST_PRINTER

# ~2,500 unique short moves: the print is long enough to restart in the middle of it
LINES = ["G28", "G90", *[f"G1 X{20 + (i % 100) * 0.5:.1f} Y{20 + (i // 100) * 2:.1f} "
                         f"F{12000 + i}" for i in range(2500)]]


class Generations:
    def __init__(self) -> None:
        self.servers: list[Server] = []

    def add(self, server: Server) -> None:
        self.servers.append(server)

    @property
    def current(self) -> Server:
        return self.servers[-1]

    def printer(self) -> Printer:
        printer = self.current.components["printer"]
        assert isinstance(printer, Printer)
        return printer

    def http(self) -> Http:
        return Http(f"http://127.0.0.1:{self.current.port}")


@contextlib.asynccontextmanager
async def serving(data_dir: Path, config: str) -> AsyncIterator[Generations]:
    write_config(data_dir, config)
    generations = Generations()
    task = asyncio.ensure_future(serve(ServerOptions(data_dir=data_dir), LogManager(),
                                       generations.add))
    try:
        await wait_for(lambda: bool(generations.servers) or task.done(), what="started")
        yield generations
    finally:
        if generations.servers:
            generations.current.request_stop()
        await asyncio.wait_for(task, 30)


async def restart(generations: Generations) -> None:
    count = len(generations.servers)
    http = generations.http()
    reply = await http.post("/server/restart")
    http.close()
    assert reply.status == 200
    await wait_for(lambda: len(generations.servers) > count, timeout=30, what="restarted")


def state(generations: Generations) -> Any:
    return generations.printer().query_status({"print_stats": ["state"]})[
        "print_stats"]["state"]


async def test_server_restart_during_a_print_keeps_the_port_and_the_print(
    tmp_path: Path,
) -> None:
    async with serving(tmp_path, FAST_PRINTER) as gens:
        printer = gens.printer()
        await wait_for(lambda: printer.state == "ready", what="ready")
        link, vp = printer.link, printer.link.virtual_printer
        assert vp is not None
        (tmp_path / "gcodes" / "long.gcode").write_text("\n".join(LINES) + "\n")
        http = gens.http()
        assert (await http.post("/printer/print/start",
                                json={"filename": "long.gcode"})).status == 200
        http.close()
        await wait_for(lambda: len(vp.executed) > 250, what="7 % printed")
        ws_finished: list[Any] = []
        await restart(gens)
        assert gens.printer() is not printer
        # the same link, the same open port: the board was not reset
        assert gens.printer().link is link and link.virtual_printer is vp
        assert state(gens) == "printing"
        ws = await Websocket.connect(f"ws://127.0.0.1:{gens.current.port}/websocket")
        gens.current.events.subscribe(JobFinished, ws_finished.append)
        await wait_for(lambda: state(gens) == "complete", timeout=90, what="complete")
        await ws.close()
        printed = [c for c in vp.executed if c.startswith("G1 X")]
        assert printed == LINES[2:], "every line exactly once, in order"
        assert vp.stats.port_opens == 1
        assert [(e.filename, e.status) for e in ws_finished] == [("long.gcode", "completed")]
        # history kept the job across the restart
        http = gens.http()
        jobs = (await http.get("/server/history/list")).json()["result"]["jobs"]
        http.close()
        assert [(j["filename"], j["status"]) for j in jobs] == [("long.gcode", "completed")]


async def test_a_serial_change_waits_for_the_print_then_connects_again(
    tmp_path: Path,
) -> None:
    async with serving(tmp_path, FAST_PRINTER) as gens:
        printer = gens.printer()
        await wait_for(lambda: printer.state == "ready", what="ready")
        link = printer.link
        (tmp_path / "gcodes" / "short.gcode").write_text("\n".join(LINES[:400]) + "\n")
        await printer.start_print("short.gcode")
        await wait_for(lambda: len(link.virtual_printer.executed) > 50  # type: ignore[union-attr]
                       , what="printing")
        write_config(tmp_path, FAST_PRINTER + "virtual_bufsize: 8\n")
        await restart(gens)
        assert gens.printer().link is link
        assert any("[serial] changed while printing" in w for w in gens.current.warnings)
        await wait_for(lambda: state(gens) == "complete", timeout=60, what="complete")
        await wait_for(lambda: gens.printer().link is not link
                       and gens.printer().state == "ready", what="reconnected")
        assert gens.printer().link.config.virtual_bufsize == 8


@pytest.mark.parametrize("changed", [False, True])
async def test_restart_without_a_print(tmp_path: Path, changed: bool) -> None:
    async with serving(tmp_path, FAST_PRINTER) as gens:
        printer = gens.printer()
        await wait_for(lambda: printer.state == "ready", what="ready")
        link = printer.link
        if changed:
            write_config(tmp_path, FAST_PRINTER + "virtual_bufsize: 8\n")
        await restart(gens)
        now = gens.printer()
        await wait_for(lambda: now.state == "ready", what="ready again")
        assert (now.link is link) is not changed
        if changed:
            assert link.virtual_printer is None  # the old link was closed first
