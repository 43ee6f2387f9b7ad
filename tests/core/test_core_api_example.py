"""docs/core-api.md's worked example, run as written: its code blocks become a component
next to the real ones, loaded from its config section, reached over HTTP and websocket,
following the printer's JobFinished, emitting its own event and offering its interface."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import components
from components.printer.api import JobFinished
from gateway.api import MissingProvider
from tests.harness import DEFAULT_CONFIG, RpcError, running_server

DOC = Path(__file__).resolve().parent.parent.parent / "docs" / "core-api.md"
BLOCK = re.compile(r"```python\n# (components/print_counter/\S+\.py)\n(.*?)```", re.S)


def example_files() -> dict[str, str]:
    return dict(BLOCK.findall(DOC.read_text()))


@pytest.fixture
def example(tmp_path: Path) -> Iterator[None]:
    """The example's package, found by the loader as any other component."""
    files = example_files()
    assert sorted(files) == ["components/print_counter/__init__.py",
                             "components/print_counter/api.py",
                             "components/print_counter/component.py"]
    for rel, text in files.items():
        path = tmp_path / "src" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    extra = str(tmp_path / "src" / "components")
    components.__path__.append(extra)
    try:
        yield
    finally:
        components.__path__.remove(extra)
        for name in [m for m in sys.modules if m.startswith("components.print_counter")]:
            del sys.modules[name]


async def test_the_worked_example_runs_as_documented(tmp_path: Path, example: None) -> None:
    from components.print_counter.api import PrintCounted, PrintCounterApi

    config = DEFAULT_CONFIG + "[print_counter]\ncount_cancelled: False\n"
    async with running_server(tmp_path / "data", config) as srv:
        counter = srv.server.lookup(PrintCounterApi)
        seen: list[PrintCounted] = []
        srv.server.events.subscribe(PrintCounted, seen.append)
        ws = await srv.websocket()
        for status in ("completed", "cancelled", "completed"):
            srv.server.events.emit(JobFinished("cube.gcode", status))
        assert seen == [PrintCounted("cube.gcode", 1), PrintCounted("cube.gcode", 2)]
        assert counter.count("cube.gcode") == 2
        note = await ws.wait_notification("notify_print_counted",
                                          lambda n: n["params"][0]["total"] == 2)
        assert note["params"] == [{"filename": "cube.gcode", "total": 2}]
        answer = (await srv.http.get("/server/print_counter")).json()
        assert answer == {"result": {"counts": {"cube.gcode": 2}}}
        with pytest.raises(RpcError) as err:
            await ws.call("server.print_counter.reset", {"filename": "other.gcode"})
        assert (err.value.code, err.value.message) == (-32601,
                                                      "No prints counted for other.gcode")
        with pytest.raises(RpcError) as err:
            await ws.call("server.print_counter.reset", {"filename": ""})
        assert err.value.code == -32602
        assert await ws.call("server.print_counter.reset", {}) == {"counts": {}}
        info = (await srv.http.get("/server/info")).json()["result"]
        assert "print_counter" in info["components"] and info["warnings"] == []


async def test_without_its_section_the_example_is_not_loaded(tmp_path: Path,
                                                            example: None) -> None:
    from components.print_counter.api import PrintCounterApi

    async with running_server(tmp_path / "data") as srv:
        assert srv.server.find(PrintCounterApi) is None
        with pytest.raises(MissingProvider):
            srv.server.lookup(PrintCounterApi)
        assert (await srv.http.get("/server/print_counter")).status == 404
