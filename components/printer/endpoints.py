"""printer.* methods, as Moonraker forwards them to Klipper."""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Annotated, Any

from msgspec import Meta

from components.printer.cmd_host import parse_endstops
from gateway.errors import BadRequest, InvalidParams, NotFound
from gateway.registry import Params
from gateway.request import Request, Transport
from gateway.version import VERSION

if TYPE_CHECKING:
    from components.printer.component import Printer
    from gateway.api import ServerApi

# objects answered by query but not listed (Mainsail queries gcode.commands)
UNLISTED = frozenset({"gcode"})
# Klipper's version as frontends check it (≥ v0.11.0-257); ours is the suffix
SOFTWARE_VERSION = f"v0.12.0-skysail-{VERSION}"


class ObjectsArgs(Params):
    """`{"objects": {name: [fields] | null}}`; over HTTP each object may instead be a
    query argument of its own with comma separated fields (empty: all)."""

    objects: dict[str, list[str] | None] | None = None


class SubscribeArgs(ObjectsArgs):
    # HTTP: the websocket that receives the updates
    connection_id: int | None = None


class ScriptArgs(Params):
    script: str


class PrintArgs(Params):
    filename: Annotated[str, Meta(min_length=1)]


def register(server: ServerApi, printer: Printer) -> None:
    api = _PrinterEndpoints(server, printer)
    reg = server.register_endpoint
    both = ("GET", "POST")
    reg("printer.info", api.info, http="GET /printer/info", requires_printer=True)
    reg("printer.objects.list", api.objects_list, http="GET /printer/objects/list",
        requires_printer=True)
    reg("printer.objects.query", api.objects_query, params=ObjectsArgs,
        http=[(v, "/printer/objects/query") for v in both], requires_printer=True)
    reg("printer.objects.subscribe", api.objects_subscribe, params=SubscribeArgs,
        http=[(v, "/printer/objects/subscribe") for v in both], requires_printer=True)
    reg("printer.query_endstops.status", api.endstops,
        http="GET /printer/query_endstops/status", requires_printer=True)
    reg("printer.gcode.script", api.gcode_script, params=ScriptArgs,
        http="POST /printer/gcode/script", requires_printer=True)
    reg("printer.gcode.help", api.gcode_help, http="GET /printer/gcode/help",
        requires_printer=True)
    reg("printer.emergency_stop", api.emergency_stop, http="POST /printer/emergency_stop",
        requires_printer=True)
    reg("printer.restart", api.restart, http="POST /printer/restart", requires_printer=True)
    reg("printer.firmware_restart", api.firmware_restart,
        http="POST /printer/firmware_restart", requires_printer=True)
    reg("printer.print.start", api.print_start, params=PrintArgs,
        http="POST /printer/print/start", requires_printer=True)
    reg("printer.print.pause", api.print_pause, http="POST /printer/print/pause",
        requires_printer=True)
    reg("printer.print.resume", api.print_resume, http="POST /printer/print/resume",
        requires_printer=True)
    reg("printer.print.cancel", api.print_cancel, http="POST /printer/print/cancel",
        requires_printer=True)


def _objects_argument(args: ObjectsArgs, request: Request) -> dict[str, Iterable[str] | None]:
    if args.objects is not None:
        return dict(args.objects)
    out: dict[str, Iterable[str] | None] = {}
    for name, value in request.args.items():
        if name == "connection_id":
            continue
        if value is not None and not isinstance(value, str):
            raise InvalidParams(f"Invalid argument [{name}]: expected comma separated fields")
        out[name] = [f for f in (value or "").split(",") if f] or None
    return out


class _PrinterEndpoints:
    def __init__(self, server: ServerApi, printer: Printer) -> None:
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
            "config_file": str(self.server.config_file),
            "software_version": SOFTWARE_VERSION,
            "cpu_info": firmware.machine_type or firmware.name or "Marlin",
            "app": "Marlin",
            "firmware_name": firmware.name,
        }

    def objects_list(self, request: Request) -> dict[str, Any]:
        return {"objects": [n for n in self.printer.model.names() if n not in UNLISTED]}

    def objects_query(self, args: ObjectsArgs, request: Request) -> dict[str, Any]:
        status = self.printer.query_status(_objects_argument(args, request))
        return {"eventtime": self.printer.hub.eventtime(), "status": status}

    def objects_subscribe(self, args: SubscribeArgs, request: Request) -> dict[str, Any]:
        conn = request.caller.connection
        if request.transport is Transport.HTTP or conn is None:
            if args.connection_id is None:
                raise InvalidParams("No data for argument: connection_id")
            conn = self.server.connections.get(args.connection_id)
            if conn is None:
                raise NotFound(f"No websocket connection with id {args.connection_id}")
        objects = _objects_argument(args, request)
        self.printer.hub.subscribe(conn, objects)
        status = self.printer.query_status(objects)
        return {"eventtime": self.printer.hub.eventtime(), "status": status}

    async def endstops(self, request: Request) -> dict[str, str]:
        return parse_endstops(await self.printer.send_firmware("M119"))

    async def gcode_script(self, args: ScriptArgs, request: Request) -> str:
        await self.printer.run_gcode(args.script)
        return "ok"

    def gcode_help(self, request: Request) -> dict[str, str]:
        return self.printer.help()

    async def emergency_stop(self, request: Request) -> str:
        await self.printer.emergency_stop()
        return "ok"

    async def restart(self, request: Request) -> str:
        await self.printer.restart()
        return "ok"

    async def firmware_restart(self, request: Request) -> str:
        await self.printer.firmware_restart()
        return "ok"

    async def print_start(self, args: PrintArgs, request: Request) -> str:
        try:
            await self.printer.start_print(args.filename)
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
