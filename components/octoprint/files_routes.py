"""`/api/files`: listings, file information, select/copy/move and delete, mapped onto the
files component (its method table and entry points) for `local`, and onto the printer's
SD card (M20/M23/M30 through run_gcode) for `sdcard`."""

from __future__ import annotations

import asyncio
import os
import posixpath
from typing import Any

from components.octoprint import params as p
from components.octoprint.core import GCODE_SUFFIXES, Compat
from components.octoprint.job import estimated_time, filament
from components.octoprint.web import NO_CONTENT, NOT_FOUND, ApiError, Table
from components.printer.api import SdCardFile as SdFile
from gateway.errors import ServerError
from gateway.registry import Response
from gateway.request import Request

ORIGINS = ("local", "sdcard")


def is_gcode(path: str) -> bool:
    return path.lower().endswith(GCODE_SUFFIXES)


def clean_path(path: str) -> str:
    parts = [p for p in path.replace("\\", "/").split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise ApiError(400, "Invalid path")
    return "/".join(parts)


class FileEntries:
    """Builds OctoPrint file and folder entries."""

    def __init__(self, app: Compat, base_url: str) -> None:
        self.app = app
        self.base = base_url

    def file(self, path: str, size: int, modified: float,
             meta: dict[str, Any] | None) -> dict[str, Any]:
        name = posixpath.basename(path)
        entry: dict[str, Any] = {
            "name": name, "display": name, "path": path, "origin": "local",
            "type": "machinecode", "typePath": ["machinecode", "gcode"],
            "size": size, "date": int(modified),
            "refs": self.app.file_refs(self.base, "local", path),
        }
        analysis: dict[str, Any] = {}
        if meta:
            estimate = estimated_time(meta)
            if estimate is not None:
                analysis["estimatedPrintTime"] = estimate
            used = filament(meta)
            if used is not None:
                analysis["filament"] = used
            height = meta.get("object_height")
            if isinstance(height, (int, float)):
                analysis["dimensions"] = {"width": None, "depth": None, "height": height}
        if analysis:
            entry["gcodeAnalysis"] = analysis
        return entry

    def folder(self, path: str, modified: float, children: list[dict[str, Any]] | None,
               size: int = 0) -> dict[str, Any]:
        name = posixpath.basename(path)
        entry: dict[str, Any] = {
            "name": name, "display": name, "path": path, "origin": "local",
            "type": "folder", "typePath": ["folder"], "date": int(modified), "size": size,
            "refs": {"resource": self.app.file_refs(self.base, "local", path)["resource"]},
        }
        if children is not None:
            entry["children"] = children
        return entry

    def sd_file(self, f: SdFile) -> dict[str, Any]:
        return {"name": f.name, "display": f.name, "path": f.path, "origin": "sdcard",
                "type": "machinecode", "typePath": ["machinecode", "gcode"], "size": f.size,
                "date": None, "refs": self.app.file_refs(self.base, "sdcard", f.path)}


class FileRoutes:
    def __init__(self, app: Compat) -> None:
        self.app = app

    def routes(self) -> Table:
        return {
            "/api/files": ("files", {"GET": (self.list_all, p.ListArgs)}),
            # POST (an upload) is the streaming upload route's
            "/api/files/{origin:local|sdcard}": ("files.origin", {
                "GET": (self.list_origin, p.OriginArgs)}),
            "/api/files/{origin:local|sdcard}/{path:.+}": ("files.entry", {
                "GET": (self.info, p.EntryArgs), "POST": (self.file_command, p.FileCommandArgs),
                "DELETE": (self.delete, p.EntryArgs)}),
        }

    # -- listings --------------------------------------------------------------------

    async def _directory(self, request: Request, path: str) -> dict[str, Any]:
        try:
            result: dict[str, Any] = await self.app.call_method(
                "server.files.get_directory",
                {"path": f"gcodes/{path}" if path else "gcodes", "extended": True},
                request.caller)
        except ServerError:
            raise ApiError(404, NOT_FOUND) from None
        return result

    async def _tree(self, request: Request, path: str, depth: int) -> tuple[list[dict[str, Any]],
                                                                      dict[str, Any]]:
        """Entries of the folder at `path`; folders get children `depth` levels down."""
        listing = await self._directory(request, path)
        entries = FileEntries(self.app, request.base_url)
        out: list[dict[str, Any]] = []
        for d in listing.get("dirs", []):
            sub = f"{path}/{d['dirname']}" if path else d["dirname"]
            children = (await self._tree(request, sub, depth - 1))[0] if depth > 0 else None
            size = sum(c.get("size") or 0 for c in children or [])
            out.append(entries.folder(sub, d.get("modified", 0.0), children, size))
        for f in listing.get("files", []):
            if not is_gcode(f["filename"]):
                continue
            rel = f"{path}/{f['filename']}" if path else f["filename"]
            out.append(entries.file(rel, f.get("size", 0), f.get("modified", 0.0), f))
        return out, listing.get("disk_usage", {})

    def _sd_entries(self, request: Request) -> list[dict[str, Any]]:
        if not self.app.sd.ready:
            return []
        entries = FileEntries(self.app, request.base_url)
        return [entries.sd_file(f) for f in self.app.sd.files]

    async def list_all(self, args: p.ListArgs, request: Request) -> object:
        depth = 100 if args.recursive else 0
        files, usage = await self._tree(request, "", depth)
        return {"files": files + self._sd_entries(request), "free": usage.get("free", 0),
                "total": usage.get("total", 0)}

    async def list_origin(self, args: p.OriginArgs, request: Request) -> object:
        if args.origin == "sdcard":
            return {"files": self._sd_entries(request)}
        depth = 100 if args.recursive else 0
        files, usage = await self._tree(request, "", depth)
        return {"files": files, "free": usage.get("free", 0), "total": usage.get("total", 0)}

    # -- one file or folder ------------------------------------------------------------

    async def entry(self, request: Request, path: str, recursive: bool = False) -> dict[str, Any]:
        """The entry of a local file or folder (404 if neither)."""
        files = self.app.files
        entries = FileEntries(self.app, request.base_url)
        try:
            disk = files.gcode_path(path)
        except ServerError:
            disk = None
        if disk is not None:
            st = await asyncio.to_thread(os.stat, disk)
            meta = await files.get_metadata(path) if is_gcode(path) else None
            return entries.file(path, st.st_size, st.st_mtime, meta)
        parent, _, name = path.rpartition("/")
        listing = await self._directory(request, parent)
        for d in listing.get("dirs", []):
            if d["dirname"] == name:
                children, _ = await self._tree(request, path, 100 if recursive else 0)
                return entries.folder(path, d.get("modified", 0.0), children,
                                      sum(c.get("size") or 0 for c in children))
        raise ApiError(404, NOT_FOUND)

    async def info(self, args: p.EntryArgs, request: Request) -> object:
        path = clean_path(args.path)
        if args.origin == "sdcard":
            found = self.app.sd.find(path) if self.app.sd.ready else None
            if found is None:
                raise ApiError(404, NOT_FOUND)
            return FileEntries(self.app, request.base_url).sd_file(found)
        return await self.entry(request, path, args.recursive)

    # -- commands ----------------------------------------------------------------------

    async def file_command(self, args: p.FileCommandArgs, request: Request) -> Response:
        origin = args.origin
        path = clean_path(args.path)
        command = type(args).__struct_config__.tag
        if isinstance(args, (p.FileSelect, p.FileUnselect)):
            await self._select(request, origin, path, args)
            return NO_CONTENT
        if origin == "sdcard":
            raise ApiError(400, f"Command {command} is not supported on the SD card")
        if isinstance(args, (p.FileCopy, p.FileMove)):
            return await self._copy_move(request, path, args)
        if isinstance(args, p.FileAnalyse):
            if not is_gcode(path):
                raise ApiError(400, "Cannot analyse a file that is not machine code")
            await self.app.call_method("server.files.metascan", {"filename": path},
                                       request.caller)
            return NO_CONTENT
        raise ApiError(400, f"Command {command} is not supported")

    async def _select(self, request: Request, origin: str, path: str,
                      args: p.FileSelect | p.FileUnselect) -> None:
        app = self.app
        snap = app.snapshot()
        if isinstance(args, p.FileUnselect):
            if snap.active:
                raise ApiError(409, "Printer is already printing, cannot unselect current "
                                    "file")
            app.selection = None
            return
        if origin == "local":
            await self.entry(request, path)  # 404 when missing
        elif not app.sd.ready or app.sd.find(path) is None:
            raise ApiError(404, NOT_FOUND)
        if not is_gcode(path) and origin == "local":
            raise ApiError(415, "Cannot select file for printing, not a machinecode file")
        if not snap.operational or snap.active:
            raise ApiError(409, "Printer is already printing, cannot select a new file")
        if origin == "local":
            await app.select_local(path)
        else:
            app.select_sd(path)
        if args.print:
            await app.print_selection()

    async def _copy_move(self, request: Request, path: str,
                         args: p.FileCopy | p.FileMove) -> Response:
        destination = args.destination
        if not destination.strip():
            raise ApiError(400, "Mandatory parameters missing: destination")
        command = "copy" if isinstance(args, p.FileCopy) else "move"
        source = await self.entry(request, path)
        dest = clean_path(destination)
        try:
            existing = await self.entry(request, dest) if dest else {"type": "folder"}
        except ApiError:
            existing = None
        final = dest
        if existing is not None and existing["type"] == "folder":
            final = f"{dest}/{source['name']}" if dest else source["name"]
            try:
                await self.entry(request, final)
            except ApiError:
                existing = None
        if existing is not None:
            raise ApiError(409, "File or folder does already exist")
        method = "server.files.copy" if command == "copy" else "server.files.move"
        try:
            await self.app.call_method(method, {"source": f"gcodes/{path}",
                                                "dest": f"gcodes/{final}"}, request.caller)
        except ServerError as exc:
            raise ApiError(409 if exc.status == 409 else 400, exc.message) from None
        sel = self.app.selection
        if command == "move" and sel is not None and sel.origin == "local" and sel.path == path:
            self.app.selection = None
        entry = await self.entry(request, final)
        return Response(201, entry, {"Location": entry["refs"]["resource"]})

    async def delete(self, args: p.EntryArgs, request: Request) -> Response:
        origin = args.origin
        path = clean_path(args.path)
        app = self.app
        snap = app.snapshot()
        sel = app.selection
        busy = (sel is not None and sel.origin == origin and snap.active
                and (sel.path == path or sel.path.startswith(path + "/")))
        if busy:
            raise ApiError(409, "Trying to delete a file that is currently in use")
        if origin == "sdcard":
            found = app.sd.find(path) if app.sd.ready else None
            if found is None:
                raise ApiError(404, NOT_FOUND)
            await app.gcode(f"M30 {found.path}")
            await app.refresh_sd()
        else:
            entry = await self.entry(request, path)
            try:
                if entry["type"] == "folder":
                    await app.call_method("server.files.delete_directory",
                                          {"path": f"gcodes/{path}", "force": True},
                                          request.caller)
                else:
                    await app.files.delete_file(f"gcodes/{path}")
            except ServerError as exc:
                if exc.status == 409:
                    raise ApiError(409, "Trying to delete a file that is currently in use") \
                        from None
                raise ApiError(400, exc.message) from None
        if sel is not None and sel.origin == origin and (
                sel.path == path or sel.path.startswith(path + "/")):
            app.selection = None
        return NO_CONTENT
