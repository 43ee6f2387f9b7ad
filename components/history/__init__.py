"""The history component (Moonraker's "history"): every print job recorded in the
database, listed and totalled.

Follows the printer's JobStarted (a row is written at once, status "in_progress") and
JobFinished (the row gets its status, end time, durations and filament; the totals grow).
A row still "in_progress" when the server starts was left by a crash: it becomes
"interrupted". A clean stop during a print records "server_exit", as Moonraker does.

Emits HistoryChanged (api.py). Websocket notifications: notify_history_changed (added,
finished — Moonraker sends none for deletions).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from components.files.api import FilesApi
from components.history.api import HistoryApi
from components.printer.api import PrinterApi
from gateway.component import ComponentSpec

from .component import History

if TYPE_CHECKING:
    from gateway.api import ServerApi

__all__ = ["COMPONENT", "History", "load_component"]


def load_component(server: ServerApi) -> History:
    return History(server)


COMPONENT = ComponentSpec(load_component, always=True, provides=(HistoryApi,),
                          wants=(FilesApi, PrinterApi))
