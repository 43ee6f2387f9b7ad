"""The core's import graph: nothing imports the Server class but its runner, and no
import cycle passes through the gateway core (scripts/import_cycles.py counts every
import, TYPE_CHECKING ones included, as mypy sees them)."""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


@functools.cache
def _script():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("import_cycles",
                                                  ROOT / "scripts" / "import_cycles.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@functools.cache
def graph() -> dict[str, set[str]]:
    script = _script()
    paths = {script.module_name(p): p
             for folder in ("gateway", "components") for p in (ROOT / folder).rglob("*.py")}
    known = set(paths)
    return {name: script.imports(path, name, known) & known for name, path in paths.items()}


def test_no_import_cycle_passes_through_the_gateway_core() -> None:
    cycles = _script().cycles(graph())
    core = [c for c in cycles
            if any(m.startswith("gateway.") and not m.startswith("gateway.hostlink")
                   for m in c)]
    assert core == []


def test_only_the_runner_and_main_know_the_server_class() -> None:
    users = sorted(name for name, deps in graph().items()
                   if "gateway.app" in deps)
    assert users == ["gateway.__main__", "gateway.runner"]


def test_components_never_import_each_others_internals_for_a_lookup() -> None:
    # a component reaches another through its published api.py (or events), not its
    # component module
    offenders = sorted(
        f"{name} -> {dep}" for name, deps in graph().items() for dep in deps
        if name.startswith("components.") and dep.startswith("components.")
        and dep.endswith(".component") and dep.split(".")[1] != name.split(".")[1]
    )
    assert offenders == []
