"""printer.* methods, as Moonraker forwards them to Klipper."""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from gateway.errors import BadRequest, NotFound
from gateway.request import Request, Transport
from gateway.version import VERSION

if TYPE_CHECKING:
    from components.printer.component import Printer
    from gateway.app import Server

# objects answered by query but not listed (Mainsail queries gcode.commands)
UNLISTED = frozenset({"gcode"})
# Klipper's version as frontends check it (≥ v0.11.0-257); ours is the suffix
SOFTWARE_VERSION = f"v0.12.0-skysail-{VERSION}"


def register(server: Server, printer: Printer) -> None:
    api = _PrinterEndpoints(server, printer)
    reg = server.register_endpoint
    req = {"requires_printer": True}
    reg("printer.info", api.info, http="GET /printer/info", **req)
    reg("printer.objects.list", api.objects_list, http="GET /printer/objects/list", **req)
    reg("printer.objects.query", api.objects_query,
        http=[("GET", "/printer/objects/query"), ("POST", "/printer/objects/query")], **req)
    reg("printer.objects.subscribe", api.objects_subscribe,
        http=[("GET", "/printer/objects/subscribe"), ("POST", "/printer/objects/subscribe")],
        **req)
    reg("printer.query_endstops.status", api.endstops,
        http="GET /printer/query_endstops/status", **req)
    reg("printer.gcode.script", api.gcode_script, http="POST /printer/gcode/script", **req)
    reg("printer.gcode.help", api.gcode_help, http="GET /printer/gcode/help", **req)
    reg("printer.emergency_stop", api.emergency_stop, http="POST /printer/emergency_stop",
        **req)
    reg("printer.restart", api.restart, http="POST /printer/restart", **req)
    reg("printer.firmware_restart", api.firmware_restart,
        http="POST /printer/firmware_restart", **req)
    reg("printer.print.start", api.print_start, http="POST /printer/print/start", **req)
    reg("printer.print.pause", api.print_pause, http="POST /printer/print/pause", **req)
    reg("printer.print.resume", api.print_resume, http="POST /printer/print/resume", **req)
    reg("printer.print.cancel", api.print_cancel, http="POST /printer/print/cancel", **req)


def _objects_argument(request: Request) -> dict[str, Iterable[str] | None]:
    """{"objects": {name: [fields] | null}} from JSON; over HTTP GET each object is a query
    argument with comma separated fields (empty: all)."""
    if request.has("objects"):
        objects = request.get_dict("objects")
        out: dict[str, Iterable[str] | None] = {}
        for name, fields in objects.items():
            if fields is not None and not isinstance(fields, list):
                raise BadRequest(f"Invalid fields for object '{name}': expected a list or null")
            out[str(name)] = fields
        return out
    out = {}
    for name, value in request.args.items():
        if name == "connection_id":
            continue
        text = value if isinstance(value, str) else ""
        out[name] = [f for f in text.split(",") if f] or None
    return out


class _PrinterEndpoints:
    def __init__(self, server: Server, printer: Printer) -> None:
        self.server = server
        self.printer = printer

    def info(self, request: Request) -> dict[str, Any]:
        p = self.printer
        firmware = p.link.firmware
        return {
            "state": p.state,
            "state_message": p.state_message,
            "hostname": socket.gethostname(),
            "klipper_path": os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
            "python_path": sys.executable,
            "process_id": os.getpid(),
            "user_id": os.getuid(),
            "group_id": os.getgid(),
            "log_file": str(self.server.data_dir / "logs" / "moonraker.log"),
            "config_file": str(self.server.options.resolved_config_path),
            "software_version": SOFTWARE_VERSION,
            "cpu_info": firmware.machine_type or firmware.name or "Marlin",
            "app": "Marlin",
            "firmware_name": firmware.name,
        }

    def objects_list(self, request: Request) -> dict[str, Any]:
        return {"objects": [n for n in self.printer.model.names() if n not in UNLISTED]}

    def objects_query(self, request: Request) -> dict[str, Any]:
        status = self.printer.query_status(_objects_argument(request))
        return {"eventtime": self.printer.hub.eventtime(), "status": status}

    def objects_subscribe(self, request: Request) -> dict[str, Any]:
        conn = request.caller.connection
        if request.transport is Transport.HTTP or conn is None:
            conn_id = request.get_int("connection_id")
            conn = self.server.connections.get(conn_id)
            if conn is None:
                raise NotFound(f"No websocket connection with id {conn_id}")
        objects = _objects_argument(request)
        self.printer.hub.subscribe(conn, objects)
        status = self.printer.query_status(objects)
        return {"eventtime": self.printer.hub.eventtime(), "status": status}

    async def endstops(self, request: Request) -> dict[str, str]:
        replies = await self.printer.send_firmware("M119")
        out: dict[str, str] = {}
        for line in replies:
            name, sep, value = line.partition(":")
            if not sep or name.strip() == "Reporting endstop status":
                continue
            axis = name.strip().split("_")[0].lower()
            out[axis if axis not in out else name.strip().lower()] = value.strip()
        return out

    async def gcode_script(self, request: Request) -> str:
        script = request.get_str("script")
        await self.printer.run_gcode(script)
        return "ok"

    def gcode_help(self, request: Request) -> dict[str, str]:
        return self.printer.console.help()

    async def emergency_stop(self, request: Request) -> str:
        await self.printer.emergency_stop()
        return "ok"

    async def restart(self, request: Request) -> str:
        await self.printer.restart()
        return "ok"

    async def firmware_restart(self, request: Request) -> str:
        await self.printer.firmware_restart()
        return "ok"

    async def print_start(self, request: Request) -> str:
        filename = request.get_str("filename")
        try:
            await self.printer.start_print(filename)
        except NotFound as exc:
            raise BadRequest(exc.message) from None
        return "ok"

    async def print_pause(self, request: Request) -> str:
        await self.printer.pause_print()
        return "ok"

    async def print_resume(self, request: Request) -> str:
        await self.printer.resume_print()
        return "ok"

    async def print_cancel(self, request: Request) -> str:
        await self.printer.cancel_print()
        return "ok"
