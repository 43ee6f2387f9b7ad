"""server.files.*: roots, listings, folder and file operations, metadata, uploads.

Blocking file-system work runs on a small thread pool (`files-io`), metadata
extraction on its own thread (see metastore), so a slow SD card never stalls the loop
that feeds the printer.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import errno
import logging
import os
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from components.files import params as p
from components.files.api import FilesApi, FilesChanged
from components.files.object_labels import process_in_place
from components.printer.api import PrinterApi
from gateway.component import BaseComponent
from gateway.errors import BadRequest, Conflict, Forbidden, NotFound, ServerError
from gateway.gcode_text import check_name
from gateway.request import Caller, Request
from gateway.settings import FileManagerSection
from gateway.transports.files_http import FileHandler, FilesUploads, LegacyLogHandler
from gateway.transports.upload_http import UploadHandler

from . import ops
from .jobs import ActiveJob
from .listing import empty_info, list_directory, path_info, walk_files
from .metastore import MetadataStore
from .notify import changed
from .roots import TEMP_PREFIX, Root, Roots, Target, check_rel, is_gcode
from .uploads import FinishedUpload, Upload

if TYPE_CHECKING:
    from collections.abc import Callable

    from gateway.api import ServerApi

log = logging.getLogger(__name__)
T = TypeVar("T")

# how long a listing waits for metadata of files that appeared behind our back
PICKUP_BUDGET = 1.0
# a config file larger than this is refused (it is read whole to check it)
MAX_CONFIG_BYTES = 4 * 1024 * 1024


class FileManager(BaseComponent, FilesApi):
    moonraker_names = ("file_manager",)

    def __init__(self, server: ServerApi) -> None:
        self.server = server
        cfg = server.config.section("file_manager", FileManagerSection)
        self.settings = cfg
        data = server.data_dir
        self.roots = Roots()
        self.roots.add("config", data / "config", cfg.enable_config_write_access)
        self.roots.add("logs", data / "logs", False)
        self.gcodes = self.roots.add("gcodes", data / "gcodes", True)
        if (data / "config_examples").is_dir():
            self.roots.add("config_examples", data / "config_examples", False)
        for name in self.roots.names():
            if name not in server.registered_directories:
                server.registered_directories.append(name)
        self.io_executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=2, thread_name_prefix="files-io"
        )
        self.meta = MetadataStore(server.database, self.gcodes, self._metadata_updated)
        self.job = ActiveJob(server.events)
        self._background: set[asyncio.Task[Any]] = set()
        self._register()

    def _register(self) -> None:
        reg = self.server.register_endpoint
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
        self.server.registry.register_rest(
            "server.files.directory",
            "/server/files/directory",
            {"GET": self.get_directory, "POST": self.post_directory,
             "DELETE": self.delete_directory},
            params={"GET": p.DirectoryArgs, "POST": p.PathArgs,
                    "DELETE": p.DeleteDirectoryArgs},
        )
        self.server.add_http_route(r"/server/files/upload", UploadHandler,
                                   {"route": FilesUploads(self)})
        self.server.add_http_route(
            r"/server/files/(klippy|moonraker)(\.log)", LegacyLogHandler, {"files": self}
        )
        self.server.add_http_route(
            r"/server/files/(?P<root>[^/]+)/(?P<path>.+)", FileHandler, {"files": self}
        )

    # -- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        await self.meta.load()
        writable = [r.path for r in self.roots if r.writable]
        await self._io(_remove_stale_temp_files, writable)

    async def stop(self) -> None:
        self.job.close()
        # background pickups may be long (a folder of new files): not worth waiting for
        for task in self._background:
            task.cancel()
        if self._background:
            await asyncio.wait(list(self._background))
        await self.meta.close()
        self.io_executor.shutdown(wait=True)

    # -- helpers ---------------------------------------------------------------------

    async def _guard_config(self, dest: Path, source: Path) -> None:
        """Writing `source`'s bytes to `dest`: if `dest` is the config file start-up
        reads, the host policy checks them first (issue 17.1: no host paths or programs
        through the API)."""
        policy = self.server.host_policy
        if not policy.is_config_file(dest):
            return
        content = await self._io(_read_limited, source, MAX_CONFIG_BYTES)
        if content is None:
            raise BadRequest(f"Config not saved: larger than {MAX_CONFIG_BYTES} bytes")
        policy.check_config_write(dest, content)

    async def _guard_config_tree(self, dest: Path, source: Path) -> None:
        """A move or copy to `dest`: the config file may be `dest` itself or, for a
        folder, somewhere below it."""
        config = self.server.host_policy.config_path
        if self.server.host_policy.is_config_file(dest):
            if not await self._io(source.is_file):
                raise Forbidden("Cannot replace the config file with a folder")
            await self._guard_config(config, source)
        elif config.is_relative_to(dest):
            inner = source / config.relative_to(dest)
            if await self._io(inner.is_file):
                await self._guard_config(config, inner)

    async def _io(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.io_executor, fn, *args)

    def _notify(self, payload: dict[str, Any]) -> None:
        self.server.send_notification("notify_filelist_changed", [payload])
        item = payload["item"]
        source = payload.get("source_item") or {}
        self.server.events.emit(FilesChanged(
            payload["action"], item["root"], item["path"],
            source.get("root"), source.get("path")))

    def _spawn(self, awaitable: Any) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.ensure_future(awaitable)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    @staticmethod
    def _writable(target: Target, message: str) -> None:
        if not target.root.writable:
            raise Forbidden(message)

    def _info(self, target: Target) -> dict[str, Any]:
        try:
            return path_info(target.path, target.root)
        except OSError:
            return empty_info()

    def _gcode_rel(self, filename: str) -> str:
        """A G-code name relative to gcodes, checked like every user path."""
        return self.roots.resolve(self.gcodes, filename).rel

    def _metadata_updated(self, rel: str, data: dict[str, Any]) -> None:
        self.server.send_notification("notify_metadata_update", [{**data, "filename": rel}])

    # -- metadata pickup: files that appeared without us ------------------------------

    async def _pickup(self, rels: list[str], budget: float = PICKUP_BUDGET) -> None:
        """Extract metadata of `rels`, waiting at most `budget`; the rest finishes in
        the background and is announced with notify_metadata_update."""
        if not rels:
            return
        task = self._spawn(self._extract_all(rels))
        await asyncio.wait([task], timeout=budget)

    async def _extract_all(self, rels: list[str]) -> None:
        for rel in rels:
            data = await self.meta.get(rel)
            if data is not None:
                self.server.send_notification(
                    "notify_metadata_update", [{**data, "filename": rel}]
                )

    # -- listings --------------------------------------------------------------------

    def list_roots(self, request: Request) -> list[dict[str, Any]]:
        return [{"name": r.name, "path": str(r.path), "permissions": r.permissions}
                for r in self.roots]

    async def list_files(self, args: p.RootArgs, request: Request) -> list[dict[str, Any]]:
        name = args.root
        root = self.roots.get(name)
        if root is None:
            raise BadRequest(f"Failed to build file list, invalid path: {name}: None")
        entries = await self._io(walk_files, root, root is self.gcodes)
        if root is self.gcodes:
            await self._pickup([e["path"] for e in entries if not self._fresh(e)])
        return entries

    def _fresh(self, info: dict[str, Any], rel: str | None = None) -> bool:
        data = self.meta.peek(rel if rel is not None else info["path"])
        return (data is not None and data.get("size") == info["size"]
                and data.get("modified") == info["modified"])

    async def get_directory(self, args: p.DirectoryArgs, request: Request) -> dict[str, Any]:
        target = self.roots.split_request_path(args.path)
        extended = args.extended
        if not target.path.is_dir():
            raise BadRequest(f"Directory does not exist ({target.display})")
        dirs, files, usage = await self._io(list_directory, target.path, target.root)
        if target.root is self.gcodes:
            prefix = f"{target.rel}/" if target.rel else ""
            stale = [prefix + f["filename"] for f in files
                     if is_gcode(f["filename"]) and not self._fresh(f, prefix + f["filename"])]
            await self._pickup(stale)
            if extended:
                for f in files:
                    data = self.meta.peek(prefix + f["filename"])
                    if data is not None and self._fresh(f, prefix + f["filename"]):
                        # the listing's own filename (a base name) wins over the metadata's
                        f.update({k: v for k, v in data.items() if k != "filename"})
        return {
            "dirs": dirs,
            "files": files,
            "disk_usage": usage,
            "root_info": {"name": target.root.name, "permissions": target.root.permissions},
        }

    # -- folders ---------------------------------------------------------------------

    async def post_directory(self, args: p.PathArgs, request: Request) -> dict[str, Any]:
        target = self.roots.split_request_path(args.path)
        self._writable(target, f"Root '{target.root.name}' is read-only")
        if not target.rel:
            raise BadRequest(f"Directory already exists ({target.display})")
        check_name(target.rel, "folder name")
        try:
            await self._io(os.mkdir, target.path)
        except OSError as exc:
            raise BadRequest(f"Cannot create directory {target.display}: {exc.strerror}") from None
        payload = changed("create_dir", target, self._info(target))
        self._notify(payload)
        return payload

    async def delete_directory(
        self, args: p.DeleteDirectoryArgs, request: Request
    ) -> dict[str, Any]:
        target = self.roots.split_request_path(args.path)
        force = args.force
        self._writable(target, f"Root '{target.root.name}' is read-only")
        if not target.rel:
            raise BadRequest("Cannot delete root directory")
        if not target.path.is_dir() or target.path.is_symlink():
            raise BadRequest(f"Directory does not exist ({target.display})")
        self.job.check(target.root.name, target.rel)
        try:
            await self._io(ops.remove_tree if force else os.rmdir, target.path)
        except OSError as exc:
            raise BadRequest(
                f"Cannot delete directory {target.display}: {exc.strerror}"
            ) from None
        if target.root is self.gcodes:
            self.meta.remove_dir(target.rel)
        payload = changed("delete_dir", target, empty_info())
        self._notify(payload)
        return payload

    # -- files -----------------------------------------------------------------------

    async def delete_file_request(self, args: p.PathArgs, request: Request) -> dict[str, Any]:
        return await self.delete_file(args.path)

    async def delete_file(self, request_path: str) -> dict[str, Any]:
        target = self.roots.split_request_path(request_path)
        if not target.root.writable:
            raise ServerError(f"Path not available for DELETE: {request_path}", 405)
        if not target.rel or not target.path.is_file():
            raise BadRequest(f"Invalid file path: {request_path}")
        self.job.check(target.root.name, target.rel)
        try:
            await self._io(os.unlink, target.path)
        except OSError as exc:
            raise BadRequest(f"Cannot delete {request_path}: {exc.strerror}") from None
        if target.root is self.gcodes:
            await self.meta.remove(target.rel)
        payload = changed("delete_file", target, empty_info())
        self._notify(payload)
        return payload

    async def move(self, args: p.MoveArgs, request: Request) -> dict[str, Any]:
        return await self._move_or_copy(args, copying=False)

    async def copy(self, args: p.MoveArgs, request: Request) -> dict[str, Any]:
        return await self._move_or_copy(args, copying=True)

    async def _move_or_copy(self, args: p.MoveArgs, *, copying: bool) -> dict[str, Any]:
        source = self.roots.split_request_path(args.source)
        dest = self.roots.split_request_path(args.dest)
        check_name(dest.rel, "destination")
        if not dest.root.writable:
            raise BadRequest(f"Destination path is read-only: {dest.root.name}")
        if not source.rel or not _lexists(source.path):
            raise BadRequest(f"File {source.display} does not exist")
        if not copying and not source.root.writable:
            raise BadRequest(f"Source path is read-only, cannot move: {source.root.name}")
        final_path = ops.final_destination(source.path, dest.path, copying=copying)
        final = self.roots.resolve(dest.root, final_path.relative_to(dest.root.path).as_posix())
        if final.path == source.path:
            raise BadRequest(f"Source and destination are the same: {source.display}")
        await self._guard_config_tree(final.path, source.path)
        is_dir = source.path.is_dir()
        existed = _lexists(final.path)
        if existed:
            self.job.check(final.root.name, final.rel)
        if not copying:
            self.job.check(source.root.name, source.rel)
        try:
            await self._io(ops.copy if copying else ops.move, source.path, dest.path)
        except (OSError, shutil.Error) as exc:
            raise BadRequest(str(exc)) from None
        if copying:
            action = "create_dir" if is_dir else ("modify_file" if existed else "create_file")
        else:
            action = "move_dir" if is_dir else "move_file"
        await self._metadata_after(source, final, is_dir=is_dir, moved=not copying)
        payload = changed(action, final, self._info(final), None if copying else source)
        self._notify(payload)
        return payload

    async def _metadata_after(
        self, source: Target, final: Target, *, is_dir: bool, moved: bool
    ) -> None:
        src_g, dst_g = source.root is self.gcodes, final.root is self.gcodes
        if moved and src_g and dst_g:
            if is_dir:
                self.meta.move_dir(source.rel, final.rel)
            elif not await self.meta.move(source.rel, final.rel) and is_gcode(final.rel):
                await self.meta.extract(final.rel)
            return
        if moved and src_g:
            if is_dir:
                self.meta.remove_dir(source.rel)
            else:
                await self.meta.remove(source.rel)
        if dst_g:
            if is_dir:
                entries = await self._io(walk_files, self.gcodes, True)
                prefix = final.rel + "/"
                await self._pickup([e["path"] for e in entries
                                    if e["path"].startswith(prefix) and not self._fresh(e)])
            elif is_gcode(final.rel):
                await self.meta.extract(final.rel)

    async def zip(self, args: p.ZipArgs, request: Request) -> dict[str, Any]:
        store_only = args.store_only
        suffix = time.strftime("%Y%m%d-%H%M%S", time.localtime())
        dest = self.roots.split_request_path(args.dest or f"config/collection-{suffix}.zip")
        if not dest.root.writable:
            raise BadRequest(f"Destination Root '{dest.root.name}' is read-only")
        if dest.path.is_dir():
            raise BadRequest(f"Cannot create archive at '{dest.display}'.  Path exists "
                             "as a directory.")
        if not dest.path.parent.is_dir():
            raise BadRequest(f"Cannot create archive at '{dest.display}'.  Parent "
                             "directory does not exist.")
        if self.server.host_policy.is_config_file(dest.path):
            raise Forbidden("Cannot write an archive over the config file")
        names = args.items
        items = [self.roots.split_request_path(n) for n in names]
        for it, name in zip(items, names, strict=True):
            if not it.path.exists():
                raise BadRequest(f"No file/directory exits at '{name}'")
        existed = dest.path.exists()
        self.job.check(dest.root.name, dest.rel)
        await self._io(ops.zip_items, items, dest.path, store_only)
        payload = changed("modify_file" if existed else "create_file", dest, self._info(dest))
        self._notify(payload)
        return {"destination": payload["item"], "action": "zip_files"}

    # -- metadata --------------------------------------------------------------------

    async def metadata(self, args: p.FileArgs, request: Request) -> dict[str, Any]:
        filename = args.filename
        rel = self._gcode_rel(filename)
        data = await self.meta.get(rel) if rel else None
        if data is None:
            raise NotFound(f"Metadata not available for <{filename}>")
        return {**data, "filename": filename}

    async def metascan(self, args: p.FileArgs, request: Request) -> dict[str, Any]:
        filename = args.filename
        target = self.roots.resolve(self.gcodes, filename)
        if not target.rel or not target.path.is_file():
            raise NotFound(f"File '{filename}' does not exist")
        if not is_gcode(target.rel):
            raise BadRequest(f"File {filename} is not a valid gcode file")
        data = await self.meta.get(target.rel, force=True)
        if data is None:
            raise ServerError(f"Failed to parse metadata for file '{filename}'", 500)
        self.server.send_notification("notify_metadata_update", [{**data, "filename": filename}])
        return {**data, "filename": filename}

    async def thumbnails(self, args: p.FileArgs, request: Request) -> list[dict[str, Any]]:
        filename = args.filename
        rel = self._gcode_rel(filename)
        data = await self.meta.get(rel) if rel else None
        thumbs = data.get("thumbnails") if data is not None else None
        if not isinstance(thumbs, list):
            return []
        parent = os.path.dirname(filename)
        result: list[dict[str, Any]] = []
        for thumb in thumbs:
            entry = {k: v for k, v in thumb.items() if k != "relative_path"}
            rel_thumb = thumb.get("relative_path")
            if isinstance(rel_thumb, str):
                entry["thumbnail_path"] = f"{parent}/{rel_thumb}" if parent else rel_thumb
            result.append(entry)
        return result

    # -- HTTP service (gateway.transports.files_http.FilesService) -----------------

    @property
    def max_upload_size(self) -> int:
        return self.server.server_config.max_upload_size * 1024 * 1024

    def begin_upload(self, caller: Caller, content_length: int | None) -> Upload:
        return Upload(self, caller, content_length)

    def download_path(self, root: str, path: str) -> Path:
        target = self.roots.resolve(self.roots.get(root) or _unknown_root(root), path)
        if not target.rel or not target.path.is_file() or target.path.name.startswith(
            TEMP_PREFIX
        ):
            raise NotFound(f"File not found: {root}/{path}")
        return target.path

    async def finish_upload(self, upload: FinishedUpload) -> dict[str, Any]:
        target = upload.target
        if self.job.touches(target.root.name, target.rel):
            raise Conflict("File is loaded, upload not permitted")
        if target.path.is_dir():
            raise BadRequest(f"Cannot overwrite a directory: {target.display}")
        await self._guard_config(target.path, upload.temp)
        gcode = target.root is self.gcodes and is_gcode(target.rel)
        if gcode and self.settings.enable_object_processing:
            # slicer object labels → EXCLUDE_OBJECT markers (exclude objects on the job card)
            await self._io(process_in_place, upload.temp)
        try:
            await self._io(_place, upload.temp, target.path)
        except OSError as exc:
            log.warning("upload of %s failed: %s", target.display, exc)
            raise ServerError("Unable to save file", 500) from None
        if gcode:
            # answered only once the metadata is there (as Moonraker): clients ask next
            await self.meta.extract(target.rel)
        # Moonraker reports create_file for uploads that replace a file too
        payload = changed("create_file", target, self._info(target))
        result: dict[str, Any] = dict(payload)
        if gcode:
            result["print_started"] = await self._start_print(target.rel, upload.start_print)
            result["print_queued"] = False
        self._notify(payload)
        return result

    async def _start_print(self, rel: str, wanted: bool) -> bool:
        if not wanted or self.job.filename is not None:
            return False
        # looked up now: the printer loads after this component (it needs FilesApi)
        printer = self.server.find(PrinterApi)
        if printer is None:
            return False
        try:
            await printer.start_print(rel)
        except ServerError as exc:
            log.info("print of %s not started: %s", rel, exc.message)
            return False
        return True

    # -- what other components may use ---------------------------------------------

    def register_directory(self, name: str, path: Path, full_access: bool) -> None:
        """Another component's folder as a root, listed, downloaded and deleted through
        server.files.* (Moonraker's name for it; the timelapse videos use it)."""
        if self.roots.get(name) is not None:
            raise ValueError(f"file root {name} exists already")
        path.mkdir(parents=True, exist_ok=True)
        self.roots.add(name, path, full_access)
        if name not in self.server.registered_directories:
            self.server.registered_directories.append(name)

    def repoint_directory(self, name: str, path: Path) -> None:
        root = self.roots.get(name)
        if root is None or name == "gcodes":
            raise KeyError(name)
        self.roots.add(name, path, root.writable)

    def gcode_path(self, filename: str) -> Path:
        """Disk path of a G-code file (checked; raises NotFound if missing)."""
        target = self.roots.resolve(self.gcodes, filename)
        if not target.rel or not target.path.is_file():
            raise NotFound(f"File {filename} does not exist")
        return target.path

    async def get_metadata(self, filename: str) -> dict[str, Any] | None:
        return await self.meta.get(check_rel_join(filename))

    def note_print_start(self, filename: str, job_id: str, start_time: float) -> None:
        self.meta.set_fields(check_rel_join(filename),
                             {"job_id": job_id, "print_start_time": start_time})


def check_rel_join(filename: str) -> str:
    return "/".join(check_rel(filename))


def _read_limited(path: Path, limit: int) -> bytes | None:
    """The file's bytes, or None when it holds more than `limit`."""
    with open(path, "rb") as f:
        data = f.read(limit + 1)
    return data if len(data) <= limit else None


def _lexists(path: Path) -> bool:
    """Exists, or is a (possibly dangling) symlink: a stat, fine on the loop."""
    return path.is_symlink() or path.exists()


def _unknown_root(name: str) -> Root:
    raise NotFound(f"File not found: unknown root '{name}'")


def _place(temp: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(temp, dest)
        return
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
    # the root was named after the bytes arrived and lives on another file system:
    # copy beside the destination first, so the final step is still one rename
    near = dest.parent / temp.name
    try:
        shutil.copyfile(temp, near)
        os.replace(near, dest)
    except BaseException:
        near.unlink(missing_ok=True)
        raise
    temp.unlink(missing_ok=True)


def _remove_stale_temp_files(roots: list[Path]) -> None:
    """Temp files left by a crash mid-upload (nothing is uploading at start-up)."""
    for root in roots:
        for directory, dirnames, filenames in os.walk(root):
            dirnames[:] = [d for d in dirnames if d != ".git"]
            for name in filenames:
                if name.startswith(TEMP_PREFIX):
                    try:
                        os.unlink(os.path.join(directory, name))
                    except OSError:
                        pass
