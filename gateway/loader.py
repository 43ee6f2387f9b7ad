"""Loads components by module name from config; the gateway never imports one directly."""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING

from gateway.component import Component
from gateway.config import ConfigError

if TYPE_CHECKING:
    from gateway.app import Server

log = logging.getLogger(__name__)

# always loaded, in this order (later ones may use earlier ones)
CORE_COMPONENTS: tuple[str, ...] = (
    "access",
    "database",
    "machine",
    "files",
    "printer",
    "gcode_store",
    "temperature_store",
    "history",
    "webcams",
    "announcements",
    "queue",
    "bed_mesh",
    "octoprint",
)
# loaded when their config section is present
OPTIONAL_COMPONENTS: tuple[str, ...] = ("led", "timelapse", "update_manager", "spoolman")


def component_names(server: Server) -> list[str]:
    names = list(CORE_COMPONENTS)
    names += [n for n in OPTIONAL_COMPONENTS if server.config.has_section(n)]
    return names


def load_components(server: Server) -> dict[str, Component]:
    loaded: dict[str, Component] = {}
    for name in component_names(server):
        try:
            module = importlib.import_module(f"components.{name}")
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith(f"components.{name}"):
                log.info("component %s not available", name)
                continue
            raise
        loader = getattr(module, "load_component", None)
        if loader is None:
            raise ConfigError(f"component {name} has no load_component()")
        loaded[name] = loader(server)
        server.components[name] = loaded[name]
    return loaded

