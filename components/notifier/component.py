"""The notifier component: `[notifier NAME]` push notifications on print events through
Apprise (started, paused, resumed, complete, error, cancelled), and from the console or a
macro with `NOTIFY [NAME=<notifier>] MESSAGE=<text>` (notifiers with `events: gcode`, or
the one named). Templates see `event_name`, `event_args` ([print_stats before, after]) and
`event_message`, as in Moonraker.

Events consumed: JobStarted, JobPaused, JobResumed, JobFinished.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from components.notifier.config import NotifierSection
from components.notifier.delivery import Notifier
from components.printer.api import (
    JobFinished,
    JobPaused,
    JobResumed,
    JobStarted,
    PrinterApi,
)
from gateway.component import BaseComponent
from gateway.config import ConfigError
from gateway.errors import BadRequest

if TYPE_CHECKING:
    from gateway.api import ServerApi
    from gateway.request import Request

log = logging.getLogger(__name__)

# JobFinished's status → the notifier event
FINISHED = {"completed": "complete", "cancelled": "cancelled", "error": "error",
            "klippy_shutdown": "error"}


class NotifierComponent(BaseComponent):
    moonraker_names = ("notifier",)

    def __init__(self, server: ServerApi) -> None:
        self.server = server
        self.notifiers: dict[str, Notifier] = {}
        for name in server.config.prefixed_sections("notifier"):
            config = server.config.section(f"notifier {name}", NotifierSection)
            try:
                self.notifiers[name] = Notifier(
                    name, config, functools.partial(server.host_policy.readable,
                                                    section=f"notifier {name}", option="attach"))
            except ValueError as exc:
                raise ConfigError(f"[notifier {name}] {exc}") from None
        self._last_stats: dict[str, object] = {}
        events = server.events
        self._unsubscribe: list[Callable[[], None]] = [
            events.subscribe(JobStarted, lambda e: self._event("started")),
            events.subscribe(JobPaused, lambda e: self._event("paused")),
            events.subscribe(JobResumed, lambda e: self._event("resumed")),
            events.subscribe(JobFinished, self._on_finished),
        ]

        def list_notifiers(request: Request) -> dict[str, object]:
            return {"notifiers": [n.info() for n in self.notifiers.values()]}

        server.register_endpoint("server.notifiers.list", list_notifiers,
                                 http="GET /server/notifiers/list")

    async def start(self) -> None:
        for notifier in self.notifiers.values():
            notifier.start()
        printer = self.server.find(PrinterApi)
        if printer is not None:
            printer.register_command("NOTIFY", self._notify_command,
                                     "Send a notification: NOTIFY [NAME=x] MESSAGE=text")
            self._last_stats = self._print_stats()

    async def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        for notifier in self.notifiers.values():
            await notifier.stop()

    def _print_stats(self) -> dict[str, object]:
        printer = self.server.find(PrinterApi)
        if printer is None:
            return {}
        return dict(printer.query_status({"print_stats": None}).get("print_stats", {}))

    def _on_finished(self, event: JobFinished) -> None:
        name = FINISHED.get(event.status)
        if name is not None:
            self._event(name, {"state": name,
                               "filename": event.filename,
                               "print_duration": event.print_duration,
                               "total_duration": event.total_duration,
                               "filament_used": event.filament_used,
                               "message": event.message})

    def _event(self, name: str, finished: dict[str, object] | None = None) -> None:
        """Post to every notifier that wants it; never waits."""
        before = self._last_stats
        after = {**self._print_stats(), **(finished or {})}
        self._last_stats = after
        for notifier in self.notifiers.values():
            if notifier.config.wants(name):
                notifier.post(name, [before, after])

    def _notify_command(self, command: str, params: dict[str, str]) -> None:
        message = params.get("MESSAGE", "")
        name = params.get("NAME")
        if name is not None:
            notifier = self.notifiers.get(name)
            if notifier is None:
                raise BadRequest(f"NOTIFY: no notifier named {name}")
            notifier.post("gcode", [], message)
            return
        targets = [n for n in self.notifiers.values() if n.config.wants("gcode")]
        if not targets:
            raise BadRequest("NOTIFY: no notifier has 'gcode' in its events")
        for notifier in targets:
            notifier.post("gcode", [], message)
