"""The OctoPrint-compatible API ("octoprint_compat" in server.info): OctoPrint's REST API
and push channel mapped onto the printer and files components, so slicers, apps and
scripts that speak OctoPrint work unchanged. See docs/octoprint.md.

Events used: the printer's PrinterStateChanged, GcodeCommand, GcodeResponse,
JobStarted/Paused/Resumed/Finished, and FilesChanged. Events emitted: none (push clients
get OctoPrint events).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from components.files.api import FilesApi, FilesChanged
from components.octoprint.core import Compat
from components.octoprint.events import EventMapper
from components.octoprint.files_routes import FileRoutes
from components.octoprint.history import TemperatureHistory
from components.octoprint.info_routes import InfoRoutes, LoginSessions
from components.octoprint.job import JobRoutes
from components.octoprint.printer_routes import PrinterRoutes
from components.octoprint.push import PushHub
from components.octoprint.settings import SettingsRoutes, SettingsStore
from components.octoprint.upload import OctoUploads
from components.octoprint.web import Table, register_table
from components.printer.api import (
    GcodeCommand,
    GcodeResponse,
    JobFinished,
    JobPaused,
    JobResumed,
    JobStarted,
    PrinterStateChanged,
)
from gateway.component import BaseComponent
from gateway.transports import sockjs
from gateway.transports.files_http import FileHandler
from gateway.transports.upload_http import UploadHandler

if TYPE_CHECKING:
    from gateway.api import ServerApi

log = logging.getLogger(__name__)


class OctoPrintCompat(BaseComponent):
    moonraker_names = ("octoprint_compat",)

    def __init__(self, server: ServerApi) -> None:
        self.server = server
        self.app = Compat(server)
        self.history = TemperatureHistory()
        self.sessions = LoginSessions()
        self.settings = SettingsStore(server)
        self.push = PushHub(server, self.app, self.history, self.sessions)
        self.app.emit = self.push.event
        self.events = EventMapper(self.app, self.push.event)
        info = InfoRoutes(self.app, self.sessions)
        files = FileRoutes(self.app)
        tables: list[Table] = [
            info.routes(),
            SettingsRoutes(self.app, self.settings, lambda: self._serial(info)).routes(),
            PrinterRoutes(self.app, self.history).routes(),
            JobRoutes(self.app).routes(),
            files.routes(),
        ]
        for table in tables:
            register_table(server, table)
        # login answers callers without credentials (the route itself decides)
        register_table(server, info.public_routes(), public=True)
        # POST /api/files/{origin}: the streaming upload (GET is the listing row)
        server.add_http_route(r"/api/files/(?P<origin>local|sdcard)", UploadHandler,
                              {"route": OctoUploads(self.app)})
        files_component = server.find(FilesApi)
        if files_component is not None:
            server.add_http_route(r"/downloads/files/(?P<root>local)/(?P<path>.+)",
                                  FileHandler, {"files": files_component, "root": "gcodes",
                                                "deletable": False})
        for pattern, handler, kwargs in sockjs.routes(self.push):
            server.add_http_route(pattern, handler, kwargs)
        self._subscribe()

    @staticmethod
    def _serial(info: InfoRoutes) -> dict[str, object]:
        cfg = info.serial_cfg
        port = "VIRTUAL" if cfg.port == "virtual" else cfg.port
        return {"port": port, "baudrate": cfg.baud, "portOptions": [port],
                "baudrateOptions": [cfg.baud], "autoconnect": True}

    def _subscribe(self) -> None:
        bus = self.server.events
        bus.subscribe(GcodeResponse, self._on_response)
        bus.subscribe(GcodeCommand, lambda e: self.push.on_command(e.script))
        bus.subscribe(PrinterStateChanged, self.events.on_printer_state)
        bus.subscribe(JobStarted, self.events.on_started)
        bus.subscribe(JobPaused, self.events.on_paused)
        bus.subscribe(JobResumed, self.events.on_resumed)
        bus.subscribe(JobFinished, self.events.on_finished)
        bus.subscribe(FilesChanged, self.events.on_files_changed)

    def _on_response(self, event: GcodeResponse) -> None:
        self.push.on_response(event.line)

    async def start(self) -> None:
        await self.settings.load()
        self.push.start()

    async def stop(self) -> None:
        self.push.stop()
        await self.app.runner.close()


def load_component(server: ServerApi) -> OctoPrintCompat:
    return OctoPrintCompat(server)
