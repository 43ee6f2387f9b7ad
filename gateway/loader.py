"""Finds the component modules under `components/` and loads those the config enables;
the gateway never imports a component by name.

Each module declares `COMPONENT = ComponentSpec(...)` (gateway/component.py). A module
with only `load_component(server)` is loaded when its `[name]` section exists.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from collections.abc import Iterable
from dataclasses import dataclass
from types import ModuleType

from gateway.api import MissingProvider, ServerApi
from gateway.component import Component, ComponentSpec
from gateway.config import Config, ConfigError

log = logging.getLogger(__name__)

PACKAGE = "components"


@dataclass(frozen=True, slots=True)
class Found:
    name: str
    spec: ComponentSpec

    @property
    def section(self) -> str:
        return self.spec.section or self.name


def module_names(package: str = PACKAGE) -> list[str]:
    """Every module and package directly under `package`, by name."""
    pkg = importlib.import_module(package)
    return sorted(info.name for info in pkgutil.iter_modules(pkg.__path__))


def spec_of(module: ModuleType) -> ComponentSpec | None:
    spec = getattr(module, "COMPONENT", None)
    if isinstance(spec, ComponentSpec):
        return spec
    load = getattr(module, "load_component", None)
    return ComponentSpec(load=load) if callable(load) else None


def enabled(config: Config, section: str) -> bool:
    return config.has_section(section) or bool(config.prefixed_sections(section))


def discover(config: Config, package: str = PACKAGE) -> list[Found]:
    """The components the config enables, in name order."""
    found: list[Found] = []
    for name in module_names(package):
        try:
            module = importlib.import_module(f"{package}.{name}")
        except ImportError as exc:
            # an optional component whose library is not installed: fine unless enabled
            if enabled(config, name):
                raise ConfigError(f"[{name}] component cannot be loaded: {exc}") from None
            log.info("component %s not available: %s", name, exc)
            continue
        spec = spec_of(module)
        if spec is None:
            continue
        entry = Found(name, spec)
        if spec.always or enabled(config, entry.section):
            found.append(entry)
    return found


def load_order(found: Iterable[Found]) -> list[Found]:
    """Providers before the components that need or want them; otherwise by name.
    A `needs` no entry provides stops start-up with a message naming both."""
    entries = sorted(found, key=lambda f: f.name)
    providers: dict[type, str] = {}
    for entry in entries:
        for api in entry.spec.provides:
            providers[api] = entry.name
    after: dict[str, set[str]] = {}
    for entry in entries:
        for api in entry.spec.needs:
            if api not in providers:
                raise MissingProvider(
                    f"component {entry.name} needs {api.__name__}, which no enabled "
                    "component provides"
                )
        deps = (*entry.spec.needs, *entry.spec.wants)
        after[entry.name] = {providers[a] for a in deps if a in providers} - {entry.name}
    ordered: list[Found] = []
    done: set[str] = set()
    pending = list(entries)
    while pending:
        ready = next((e for e in pending if after[e.name] <= done), None)
        if ready is None:
            names = ", ".join(e.name for e in pending)
            raise ConfigError(f"components wait for each other: {names}")
        ordered.append(ready)
        done.add(ready.name)
        pending.remove(ready)
    return ordered


def load_components(server: ServerApi, components: dict[str, Component]) -> None:
    """Load, in order, into `components`; each provider is registered with the server
    before the next component loads."""
    for entry in load_order(discover(server.config)):
        component = entry.spec.load(server)
        for api in entry.spec.provides:
            if getattr(api, "_is_runtime_protocol", False) and not isinstance(component, api):
                raise ConfigError(f"component {entry.name} does not implement {api.__name__}")
            server.provide(api, component)
        components[entry.name] = component
