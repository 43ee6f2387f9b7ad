"""The OctoPrint-compatible API ("octoprint_compat" in server.info): OctoPrint's REST API
and push channel mapped onto the printer and files components, so slicers, apps and
scripts that speak OctoPrint work unchanged. See docs/octoprint.md.

Events used: printer:state_changed, printer:gcode_command, printer:gcode_response,
job:started/paused/resumed/finished, files:changed. Events emitted: none (push clients
get OctoPrint events).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from components.octoprint.core import Compat
from components.octoprint.downloads import DownloadHandler
from components.octoprint.events import EventMapper
from components.octoprint.files_routes import FileRoutes
from components.octoprint.history import TemperatureHistory
from components.octoprint.info_routes import InfoRoutes, LoginSessions
from components.octoprint.job import JobRoutes
from components.octoprint.printer_routes import PrinterRoutes
from components.octoprint.push import PushHub
from components.octoprint.settings import SettingsRoutes, SettingsStore
from components.octoprint.upload import UploadHandler
from components.octoprint.web import ApiHandler, Route
from gateway.component import BaseComponent
from gateway.transports import sockjs

if TYPE_CHECKING:
    from gateway.app import Server

log = logging.getLogger(__name__)


class PublicApiHandler(ApiHandler):
    """Routes that answer callers without credentials themselves (login)."""

    public = True


class OctoPrintCompat(BaseComponent):
    moonraker_names = ("octoprint_compat",)

    def __init__(self, server: Server) -> None:
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
        tables: list[dict[str, dict[str, Route]]] = [
            info.routes(),
            SettingsRoutes(self.app, self.settings, lambda: self._serial(info)).routes(),
            PrinterRoutes(self.app, self.history).routes(),
            JobRoutes(self.app).routes(),
            files.routes(),
        ]
        listing = files.list_origin
        server.add_http_route(r"/api/files/(?P<origin>local|sdcard)", UploadHandler,
                              {"app": self.app, "listing": listing})
        for table in tables:
            for pattern, verbs in table.items():
                server.add_http_route(pattern, ApiHandler, {"verbs": verbs})
        for pattern, verbs in info.public_routes().items():
            server.add_http_route(pattern, PublicApiHandler, {"verbs": verbs})
        files_component = server.components.get("files")
        if files_component is not None:
            server.add_http_route(r"/downloads/files/(?P<root>local)/(?P<path>.+)",
                                  DownloadHandler, {"files": files_component})
        for pattern, handler, kwargs in sockjs.routes(self.push):
            server.add_http_route(pattern, handler, kwargs)
        self._subscribe()

    @staticmethod
    def _serial(info: InfoRoutes) -> dict[str, Any]:
        cfg = info.serial_cfg
        port = "VIRTUAL" if cfg.port == "virtual" else cfg.port
        return {"port": port, "baudrate": cfg.baud, "portOptions": [port],
                "baudrateOptions": [cfg.baud], "autoconnect": True}

    def _subscribe(self) -> None:
        bus = self.server.events
        bus.subscribe("printer:gcode_response", self._on_response)
        bus.subscribe("printer:gcode_command", self.push.on_command)
        bus.subscribe("printer:state_changed", self.events.on_printer_state)
        bus.subscribe("job:started", self.events.on_started)
        bus.subscribe("job:paused", self.events.on_paused)
        bus.subscribe("job:resumed", self.events.on_resumed)
        bus.subscribe("job:finished", self.events.on_finished)
        bus.subscribe("files:changed", self.events.on_files_changed)

    def _on_response(self, line: str) -> None:
        self.app.sd.on_line(line)
        self.push.on_response(line)

    async def start(self) -> None:
        await self.settings.load()
        self.push.start()

    async def stop(self) -> None:
        self.push.stop()
        await self.app.runner.close()


def load_component(server: Server) -> OctoPrintCompat:
    return OctoPrintCompat(server)
