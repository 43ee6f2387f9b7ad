"""server.files.* endpoints: roots, listings, folders, file operations and metadata.
The uploads and downloads are the files component's HTTP service (component.py)."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from components.files import params as p
from gateway.errors import BadRequest, Forbidden, NotFound, ServerError
from gateway.gcode_text import check_name
from gateway.request import Request

from . import ops
from .listing import DirEntry, ListedFile, PathInfo, empty_info, list_directory, walk_files
from .roots import Target, is_gcode

if TYPE_CHECKING:
    from gateway.api import ServerApi

    from .component import FileManager


class FileEndpoints:
    def __init__(self, files: FileManager) -> None:
        self.files = files

    def register(self, server: ServerApi) -> None:
        reg = server.register_endpoint
        reg("server.files.list", self.list_files, params=p.RootArgs,
            http="GET /server/files/list")
        reg("server.files.roots", self.list_roots, http="GET /server/files/roots")
        reg("server.files.metadata", self.metadata, params=p.FileArgs,
            http="GET /server/files/metadata")
        reg("server.files.metascan", self.metascan, params=p.FileArgs,
            http="POST /server/files/metascan")
        reg("server.files.thumbnails", self.thumbnails, params=p.FileArgs,
            http="GET /server/files/thumbnails")
        reg("server.files.move", self.move, params=p.MoveArgs, http="POST /server/files/move")
        reg("server.files.copy", self.copy, params=p.MoveArgs, http="POST /server/files/copy")
        reg("server.files.zip", self.zip, params=p.ZipArgs, http="POST /server/files/zip")
        # websocket only, as Moonraker; HTTP deletes through DELETE /server/files/{root}/{path}
        reg("server.files.delete_file", self.delete_file_request, params=p.PathArgs)
        server.registry.register_rest(
            "server.files.directory",
            "/server/files/directory",
            {"GET": self.get_directory, "POST": self.post_directory,
             "DELETE": self.delete_directory},
            params={"GET": p.DirectoryArgs, "POST": p.PathArgs,
                    "DELETE": p.DeleteDirectoryArgs},
        )

    def list_roots(self, request: Request) -> list[dict[str, object]]:
        return [{"name": r.name, "path": str(r.path), "permissions": r.permissions}
                for r in self.files.roots]

    async def list_files(self, args: p.RootArgs, request: Request) -> list[ListedFile]:
        name = args.root
        root = self.files.roots.get(name)
        if root is None:
            raise BadRequest(f"Failed to build file list, invalid path: {name}: None")
        entries = await self.files.io(walk_files, root, root is self.files.gcodes)
        if root is self.files.gcodes:
            await self.files.pickup([e["path"] for e in entries
                                     if not self._fresh(e, e["path"])])
        return entries

    def _fresh(self, info: PathInfo, rel: str) -> bool:
        """The metadata kept for gcodes/`rel` is about the file as it is now."""
        data = self.files.meta.peek(rel)
        return (data is not None and data.get("size") == info["size"]
                and data.get("modified") == info["modified"])

    async def get_directory(self, args: p.DirectoryArgs, request: Request) -> dict[str, object]:
        target = self.files.roots.split_request_path(args.path)
        extended = args.extended
        if not target.path.is_dir():
            raise BadRequest(f"Directory does not exist ({target.display})")
        dirs, files, usage = await self.files.io(list_directory, target.path, target.root)
        shown: Sequence[Mapping[str, object]] = files
        if target.root is self.files.gcodes:
            prefix = f"{target.rel}/" if target.rel else ""
            stale = [prefix + f["filename"] for f in files
                     if is_gcode(f["filename"]) and not self._fresh(f, prefix + f["filename"])]
            await self.files.pickup(stale)
            if extended:
                shown = [self._with_metadata(f, prefix + f["filename"]) for f in files]
        return {
            "dirs": dirs,
            "files": shown,
            "disk_usage": usage,
            "root_info": {"name": target.root.name, "permissions": target.root.permissions},
        }

    def _with_metadata(self, entry: DirEntry, rel: str) -> Mapping[str, object]:
        data = self.files.meta.peek(rel)
        if data is None or not self._fresh(entry, rel):
            return entry
        # the listing's own filename (a base name) wins over the metadata's
        return {**entry, **{k: v for k, v in data.items() if k != "filename"}}

    async def post_directory(self, args: p.PathArgs, request: Request) -> dict[str, object]:
        target = self.files.roots.split_request_path(args.path)
        self.files.check_writable(target, f"Root '{target.root.name}' is read-only")
        if not target.rel:
            raise BadRequest(f"Directory already exists ({target.display})")
        check_name(target.rel, "folder name")
        try:
            await self.files.io(os.mkdir, target.path)
        except OSError as exc:
            raise BadRequest(f"Cannot create directory {target.display}: {exc.strerror}") from None
        return self.files.announce("create_dir", target, self.files.target_info(target))

    async def delete_directory(
        self, args: p.DeleteDirectoryArgs, request: Request
    ) -> dict[str, object]:
        target = self.files.roots.split_request_path(args.path)
        force = args.force
        self.files.check_writable(target, f"Root '{target.root.name}' is read-only")
        if not target.rel:
            raise BadRequest("Cannot delete root directory")
        if not target.path.is_dir() or target.path.is_symlink():
            raise BadRequest(f"Directory does not exist ({target.display})")
        self.files.job.check(target.root.name, target.rel)
        try:
            await self.files.io(ops.remove_tree if force else os.rmdir, target.path)
        except OSError as exc:
            raise BadRequest(
                f"Cannot delete directory {target.display}: {exc.strerror}"
            ) from None
        if target.root is self.files.gcodes:
            self.files.meta.remove_dir(target.rel)
        return self.files.announce("delete_dir", target, empty_info())

    async def delete_file_request(self, args: p.PathArgs, request: Request) -> dict[str, object]:
        return await self.files.delete_file(args.path)

    async def move(self, args: p.MoveArgs, request: Request) -> dict[str, object]:
        return await self._move_or_copy(args, copying=False)

    async def copy(self, args: p.MoveArgs, request: Request) -> dict[str, object]:
        return await self._move_or_copy(args, copying=True)

    async def _move_or_copy(self, args: p.MoveArgs, *, copying: bool) -> dict[str, object]:
        source = self.files.roots.split_request_path(args.source)
        dest = self.files.roots.split_request_path(args.dest)
        check_name(dest.rel, "destination")
        if not dest.root.writable:
            raise BadRequest(f"Destination path is read-only: {dest.root.name}")
        if not source.rel or not _lexists(source.path):
            raise BadRequest(f"File {source.display} does not exist")
        if not copying and not source.root.writable:
            raise BadRequest(f"Source path is read-only, cannot move: {source.root.name}")
        final_path = ops.final_destination(source.path, dest.path, copying=copying)
        final = self.files.roots.resolve(dest.root,
                                         final_path.relative_to(dest.root.path).as_posix())
        if final.path == source.path:
            raise BadRequest(f"Source and destination are the same: {source.display}")
        await self.files.guard_config_tree(final.path, source.path)
        is_dir = source.path.is_dir()
        existed = _lexists(final.path)
        if existed:
            self.files.job.check(final.root.name, final.rel)
        if not copying:
            self.files.job.check(source.root.name, source.rel)
        try:
            await self.files.io(ops.copy if copying else ops.move, source.path, dest.path)
        except (OSError, shutil.Error) as exc:
            raise BadRequest(str(exc)) from None
        if copying:
            action = "create_dir" if is_dir else ("modify_file" if existed else "create_file")
        else:
            action = "move_dir" if is_dir else "move_file"
        await self._metadata_after(source, final, is_dir=is_dir, moved=not copying)
        return self.files.announce(action, final, self.files.target_info(final),
                                   None if copying else source)

    async def _metadata_after(
        self, source: Target, final: Target, *, is_dir: bool, moved: bool
    ) -> None:
        src_g, dst_g = source.root is self.files.gcodes, final.root is self.files.gcodes
        if moved and src_g and dst_g:
            if is_dir:
                self.files.meta.move_dir(source.rel, final.rel)
            elif not await self.files.meta.move(source.rel, final.rel) and is_gcode(final.rel):
                await self.files.meta.extract(final.rel)
            return
        if moved and src_g:
            if is_dir:
                self.files.meta.remove_dir(source.rel)
            else:
                await self.files.meta.remove(source.rel)
        if dst_g:
            if is_dir:
                entries = await self.files.io(walk_files, self.files.gcodes, True)
                prefix = final.rel + "/"
                await self.files.pickup([e["path"] for e in entries if e["path"].startswith(prefix)
                                         and not self._fresh(e, e["path"])])
            elif is_gcode(final.rel):
                await self.files.meta.extract(final.rel)

    async def zip(self, args: p.ZipArgs, request: Request) -> dict[str, object]:
        store_only = args.store_only
        suffix = time.strftime("%Y%m%d-%H%M%S", time.localtime())
        dest = self.files.roots.split_request_path(args.dest or f"config/collection-{suffix}.zip")
        if not dest.root.writable:
            raise BadRequest(f"Destination Root '{dest.root.name}' is read-only")
        if dest.path.is_dir():
            raise BadRequest(f"Cannot create archive at '{dest.display}'.  Path exists "
                             "as a directory.")
        if not dest.path.parent.is_dir():
            raise BadRequest(f"Cannot create archive at '{dest.display}'.  Parent "
                             "directory does not exist.")
        if self.files.server.host_policy.is_config_file(dest.path):
            raise Forbidden("Cannot write an archive over the config file")
        names = args.items
        items = [self.files.roots.split_request_path(n) for n in names]
        for it, name in zip(items, names, strict=True):
            if not it.path.exists():
                raise BadRequest(f"No file/directory exits at '{name}'")
        existed = dest.path.exists()
        self.files.job.check(dest.root.name, dest.rel)
        await self.files.io(ops.zip_items, items, dest.path, store_only)
        payload = self.files.announce("modify_file" if existed else "create_file", dest,
                                      self.files.target_info(dest))
        return {"destination": payload["item"], "action": "zip_files"}

    async def metadata(self, args: p.FileArgs, request: Request) -> dict[str, object]:
        filename = args.filename
        rel = self.files.gcode_rel(filename)
        data = await self.files.meta.get(rel) if rel else None
        if data is None:
            raise NotFound(f"Metadata not available for <{filename}>")
        return {**data, "filename": filename}

    async def metascan(self, args: p.FileArgs, request: Request) -> dict[str, object]:
        filename = args.filename
        target = self.files.roots.resolve(self.files.gcodes, filename)
        if not target.rel or not target.path.is_file():
            raise NotFound(f"File '{filename}' does not exist")
        if not is_gcode(target.rel):
            raise BadRequest(f"File {filename} is not a valid gcode file")
        data = await self.files.meta.get(target.rel, force=True)
        if data is None:
            raise ServerError(f"Failed to parse metadata for file '{filename}'", 500)
        self.files.server.send_notification("notify_metadata_update",
                                            [{**data, "filename": filename}])
        return {**data, "filename": filename}

    async def thumbnails(self, args: p.FileArgs, request: Request) -> list[dict[str, object]]:
        filename = args.filename
        rel = self.files.gcode_rel(filename)
        data = await self.files.meta.get(rel) if rel else None
        thumbs = data.get("thumbnails") if data is not None else None
        if not isinstance(thumbs, list):
            return []
        parent = os.path.dirname(filename)
        result: list[dict[str, object]] = []
        for thumb in thumbs:
            entry = {k: v for k, v in thumb.items() if k != "relative_path"}
            rel_thumb = thumb.get("relative_path")
            if isinstance(rel_thumb, str):
                entry["thumbnail_path"] = f"{parent}/{rel_thumb}" if parent else rel_thumb
            result.append(entry)
        return result

def _lexists(path: Path) -> bool:
    """Exists, or is a (possibly dangling) symlink: a stat, fine on the loop."""
    return path.is_symlink() or path.exists()
