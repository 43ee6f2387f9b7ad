"""The loader: components found by their declarations, loaded when the config enables
them, providers before the components that use them, a missing provider named at
start-up."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.api import MissingProvider
from gateway.config import Config, ConfigError
from gateway.loader import discover, load_order
from tests.harness import running_server

APIS = '''
from typing import Protocol, runtime_checkable

@runtime_checkable
class ClockApi(Protocol):
    def now(self) -> float: ...

class LampApi(Protocol):
    def on(self) -> None: ...
'''

COMMON = '''
from gateway.component import BaseComponent, ComponentSpec
from {pkg}.apis import ClockApi, LampApi
'''

MODULES = {
    # a core component providing an interface
    "clock": '''
class Clock(BaseComponent):
    def now(self) -> float:
        return 1.0

COMPONENT = ComponentSpec(lambda server: Clock(), always=True, provides=(ClockApi,))
''',
    # optional, needs the clock: loaded after it although its name sorts first
    "alarm": '''
class Alarm(BaseComponent):
    def __init__(self, server):
        self.clock = server.lookup(ClockApi)

COMPONENT = ComponentSpec(lambda server: Alarm(server), needs=(ClockApi,))
''',
    # optional, enabled by `[lamp NAME]` sections too
    "lamp": '''
COMPONENT = ComponentSpec(lambda server: BaseComponent(), provides=(LampApi,))
''',
    # wants a lamp: ordered after it when it is there, loaded without it otherwise
    "bell": '''
COMPONENT = ComponentSpec(lambda server: BaseComponent(), always=True, wants=(LampApi,))
''',
    # no declaration: loaded with its [legacy] section, as modules written before them
    "legacy": '''
def load_component(server):
    return BaseComponent()
''',
    # needs a library that is not installed: fine while not enabled
    "broken": '''
import skysail_no_such_library
''',
    # not a component at all
    "helpers": '''
VALUE = 1
''',
}


@pytest.fixture
def package(tmp_path: Path) -> Iterator[str]:
    name = f"fakecomponents_{tmp_path.name.replace('-', '_')}"
    root = tmp_path / name
    root.mkdir()
    (root / "__init__.py").write_text("")
    (root / "apis.py").write_text(APIS)
    for module, body in MODULES.items():
        (root / f"{module}.py").write_text(COMMON.format(pkg=name) + textwrap.dedent(body))
    sys.path.insert(0, str(tmp_path))
    try:
        yield name
    finally:
        sys.path.remove(str(tmp_path))
        for loaded in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
            del sys.modules[loaded]


def names(config: str, package: str) -> list[str]:
    return [f.name for f in load_order(discover(Config.from_string(config), package))]


def test_core_components_load_and_optional_ones_wait_for_their_section(package: str) -> None:
    assert names("", package) == ["bell", "clock"]
    assert names("[legacy]\n", package) == ["bell", "clock", "legacy"]
    assert names("[lamp desk]\n", package) == ["clock", "lamp", "bell"]


def test_a_provider_loads_before_what_needs_it(package: str) -> None:
    assert names("[alarm]\n[lamp]\n", package) == ["clock", "alarm", "lamp", "bell"]


def test_a_missing_provider_is_named_at_start_up(package: str) -> None:
    found = [f for f in discover(Config.from_string("[alarm]\n"), package)
             if f.name != "clock"]
    with pytest.raises(MissingProvider, match="alarm needs ClockApi"):
        load_order(found)


def test_an_enabled_component_that_cannot_be_imported_stops_start_up(package: str) -> None:
    with pytest.raises(ConfigError, match=r"\[broken\].*skysail_no_such_library"):
        discover(Config.from_string("[broken]\n"), package)


async def test_the_server_looks_up_providers_by_interface(tmp_path: Path) -> None:
    from components.files.api import FilesApi
    from components.printer.api import PrinterApi
    from components.timelapse.api import TimelapseApi

    async with running_server(tmp_path) as srv:
        server = srv.server
        assert server.lookup(PrinterApi) is server.components["printer"]
        assert server.find(FilesApi) is server.components["files"]
        assert server.find(TimelapseApi) is None  # no [timelapse] section
        with pytest.raises(MissingProvider, match="TimelapseApi"):
            server.lookup(TimelapseApi)
        order = list(server.components)
        assert order.index("files") < order.index("printer") < order.index("queue")


def test_finding_components_loads_no_code_of_disabled_ones() -> None:
    # a fresh interpreter: other tests have imported everything into this one
    script = (
        "import sys\n"
        "from gateway.config import Config\n"
        "from gateway.loader import discover\n"
        "found = [f.name for f in discover(Config.from_string(''))]\n"
        "assert 'led' not in found and 'timelapse' not in found, found\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('components.') and\n"
        "                m.split('.')[1] in ('led', 'timelapse', 'update_manager', 'mqtt',\n"
        "                                    'power', 'sensor', 'notifier')\n"
        "                and m.count('.') > 1 and not m.endswith('.api'))\n"
        "print(loaded)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True, timeout=60)
    assert done.stdout.strip() == "[]"
