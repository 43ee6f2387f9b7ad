"""The part of the printer component (components/printer/api.py: PrinterApi) the LED
component calls: a small protocol of our own, as docs/core-api.md asks."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol, runtime_checkable

from components.printer.api import CommandHandler


@runtime_checkable
class LedPrinter(Protocol):
    @property
    def state(self) -> str: ...

    def query_status(
        self, objects: Mapping[str, Iterable[str] | None]
    ) -> dict[str, dict[str, Any]]: ...

    async def run_gcode(self, script: str) -> None: ...

    def register_command(self, name: str, handler: CommandHandler,
                         description: str) -> None: ...

    def add_object(self, name: str, fields: dict[str, Any]) -> None: ...

    def update_object(self, name: str, fields: Mapping[str, Any]) -> None: ...

    def add_config_section(
        self, name: str, config: dict[str, str], settings: dict[str, Any]
    ) -> None: ...
