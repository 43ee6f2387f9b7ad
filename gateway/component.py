"""What the server expects of a component module and of the object it loads.

A component is a module or package under `components/` that declares itself:

    COMPONENT = ComponentSpec(load=load_component, always=True,
                              provides=(PrinterApi,), wants=(FilesApi,))

The loader (gateway/loader.py) finds every such module, loads those the config enables
(`always`, or a `[section]` / `[section NAME]` in the config), in an order where each
component comes after the providers of what it `needs` and `wants`, and registers the
loaded object as the provider of what it `provides`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from gateway.api import ServerApi


class Component(Protocol):
    # names reported in server.info "components": Moonraker's, so frontends recognise them
    @property
    def moonraker_names(self) -> tuple[str, ...]: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


@dataclass(frozen=True, slots=True)
class ComponentSpec:
    load: Callable[[ServerApi], Component]
    # loaded whatever the config says (the core); otherwise only when enabled
    always: bool = False
    # the config section that enables it ("" = the module's name); `[name]` or any
    # `[name SOMETHING]` counts
    section: str = ""
    # interfaces (Protocols from components' api.py) the loaded object implements
    provides: tuple[type, ...] = ()
    # interfaces it looks up: a missing provider stops start-up with a message
    needs: tuple[type, ...] = ()
    # interfaces it uses if present (server.find): only their load order matters
    wants: tuple[type, ...] = ()


class BaseComponent:
    """Defaults for components with nothing to start or stop."""

    moonraker_names: tuple[str, ...] = ()

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None
