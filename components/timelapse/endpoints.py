"""The timelapse APIs.

Moonraker (moonraker-timelapse's methods, as Mainsail and Fluidd call them):
  machine.timelapse.get_settings   GET  /machine/timelapse/settings
  machine.timelapse.post_settings  POST /machine/timelapse/settings
  machine.timelapse.lastframeinfo  GET  /machine/timelapse/lastframeinfo
  machine.timelapse.render         POST /machine/timelapse/render
  machine.timelapse.saveframes     POST /machine/timelapse/saveframes
The `timelapse` folder (while the files component cannot take other roots):
  machine.timelapse.list_files     GET    /machine/timelapse/files
  machine.timelapse.delete_file    DELETE /machine/timelapse/files?filename=NAME
  download                         GET    /machine/timelapse/files/NAME
OctoPrint (bare JSON):
  GET /api/timelapse (through the octoprint component), DELETE /api/timelapse/NAME,
  GET /downloads/timelapse/NAME, GET /plugin/octolapse/status, /plugin/octolapse/settings
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from components.timelapse.library import ROOT, LibraryFiles
from components.timelapse.params import FileArgs
from gateway.registry import Answer
from gateway.request import Request
from gateway.transports.files_http import FileHandler

if TYPE_CHECKING:
    from components.timelapse.component import Timelapse
    from gateway.api import ServerApi


def register(server: ServerApi, tl: Timelapse) -> None:
    reg = server.register_endpoint
    reg("machine.timelapse.get_settings", tl.get_settings,
        http="GET /machine/timelapse/settings")
    # moonraker-timelapse's names: the settings store types and checks each one
    reg("machine.timelapse.post_settings", tl.post_settings, params=dict[str, object],
        http="POST /machine/timelapse/settings")
    reg("machine.timelapse.lastframeinfo", tl.lastframeinfo,
        http="GET /machine/timelapse/lastframeinfo")
    reg("machine.timelapse.render", tl.render_request, http="POST /machine/timelapse/render")
    reg("machine.timelapse.saveframes", tl.saveframes_request,
        http="POST /machine/timelapse/saveframes")
    reg("machine.timelapse.list_files", tl.list_files, http="GET /machine/timelapse/files")
    reg("machine.timelapse.delete_file", tl.delete_file_request, params=FileArgs,
        http="DELETE /machine/timelapse/files")
    # downloads of the folder; deletes go through the APIs
    files = {"files": LibraryFiles(tl.library), "root": ROOT, "deletable": False}
    server.add_http_route(r"/machine/timelapse/(?P<root>files)/(?P<path>[^/]+)",
                          FileHandler, files)
    server.add_http_route(r"/downloads/(?P<root>timelapse)/(?P<path>[^/]+)",
                          FileHandler, files)

    async def octoprint_delete(args: FileArgs, request: Request) -> dict[str, object]:
        await tl.delete_file(args.filename)
        return await tl.octoprint_listing()

    async def octolapse_status(request: Request) -> dict[str, object]:
        return await tl.octolapse_status()

    def octolapse_settings(request: Request) -> dict[str, object]:
        return tl.octolapse_settings()

    reg("octoprint.timelapse.delete", octoprint_delete, params=FileArgs,
        http="DELETE /api/timelapse/{filename}", answer=Answer.OCTOPRINT, websocket=False)
    reg("octolapse.status", octolapse_status, http="GET /plugin/octolapse/status",
        raw_http=True, websocket=False)
    reg("octolapse.settings", octolapse_settings, http="GET /plugin/octolapse/settings",
        raw_http=True, websocket=False)
