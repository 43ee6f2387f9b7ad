"""What the server expects of a component module and of the object it loads."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from gateway.app import Server


class Component(Protocol):
    # names reported in server.info "components": Moonraker's, so frontends recognise them
    moonraker_names: tuple[str, ...]

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class ComponentModule(Protocol):
    def load_component(self, server: Server) -> Component: ...


class BaseComponent:
    """Defaults for components with nothing to start or stop."""

    moonraker_names: tuple[str, ...] = ()

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None
