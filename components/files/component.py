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
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from components.files.api import FilesApi, FilesChanged
from components.files.object_labels import process_in_place
from components.printer.api import PrinterApi
from gateway.component import BaseComponent
from gateway.errors import BadRequest, Conflict, Forbidden, NotFound, ServerError
from gateway.request import Caller
from gateway.settings import FileManagerSection
from gateway.tasks import Background
from gateway.transports.files_http import FileHandler, FilesUploads, LegacyLogHandler
from gateway.transports.upload_http import UploadHandler

from .endpoints import FileEndpoints
from .jobs import ActiveJob
from .listing import PathInfo, empty_info, path_info
from .metastore import MetadataStore
from .notify import changed
from .roots import TEMP_PREFIX, Root, Roots, Target, check_rel, is_gcode
from .uploads import FinishedUpload, Upload

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping

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
        self._background = Background("files background task", logger=log)
        self._register()

    def _register(self) -> None:
        FileEndpoints(self).register(self.server)
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
        await self.io(_remove_stale_temp_files, writable)

    async def stop(self) -> None:
        self.job.close()
        # background pickups may be long (a folder of new files): not worth waiting for
        await self._background.cancel()
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
        content = await self.io(_read_limited, source, MAX_CONFIG_BYTES)
        if content is None:
            raise BadRequest(f"Config not saved: larger than {MAX_CONFIG_BYTES} bytes")
        policy.check_config_write(dest, content)

    async def guard_config_tree(self, dest: Path, source: Path) -> None:
        """A move or copy to `dest`: the config file may be `dest` itself or, for a
        folder, somewhere below it."""
        config = self.server.host_policy.config_path
        if self.server.host_policy.is_config_file(dest):
            if not await self.io(source.is_file):
                raise Forbidden("Cannot replace the config file with a folder")
            await self._guard_config(config, source)
        elif config.is_relative_to(dest):
            inner = source / config.relative_to(dest)
            if await self.io(inner.is_file):
                await self._guard_config(config, inner)

    async def io(self, fn: Callable[..., T], *args: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.io_executor, fn, *args)

    def announce(self, action: str, target: Target, info: Mapping[str, object],
                 source: Target | None = None) -> dict[str, object]:
        """notify_filelist_changed and FilesChanged for a change made; returns the
        payload (the answer of the method that made it)."""
        payload = changed(action, target, info, source)
        self.server.send_notification("notify_filelist_changed", [payload])
        self.server.events.emit(FilesChanged(
            action, target.root.name, target.rel,
            source.root.name if source else None, source.rel if source else None))
        return payload

    def _spawn(self, awaitable: Awaitable[object]) -> asyncio.Future[object]:
        return self._background.spawn(awaitable)

    @staticmethod
    def check_writable(target: Target, message: str) -> None:
        if not target.root.writable:
            raise Forbidden(message)

    def target_info(self, target: Target) -> PathInfo:
        try:
            return path_info(target.path, target.root)
        except OSError:
            return empty_info()

    def gcode_rel(self, filename: str) -> str:
        """A G-code name relative to gcodes, checked like every user path."""
        return self.roots.resolve(self.gcodes, filename).rel

    def _metadata_updated(self, rel: str, data: dict[str, object]) -> None:
        self.server.send_notification("notify_metadata_update", [{**data, "filename": rel}])

    # -- metadata pickup: files that appeared without us ------------------------------

    async def pickup(self, rels: list[str], budget: float = PICKUP_BUDGET) -> None:
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

    # -- files (delete_file is also FilesService) ------------------------------------

    async def delete_file(self, request_path: str) -> dict[str, object]:
        target = self.roots.split_request_path(request_path)
        if not target.root.writable:
            raise ServerError(f"Path not available for DELETE: {request_path}", 405)
        if not target.rel or not target.path.is_file():
            raise BadRequest(f"Invalid file path: {request_path}")
        self.job.check(target.root.name, target.rel)
        try:
            await self.io(os.unlink, target.path)
        except OSError as exc:
            raise BadRequest(f"Cannot delete {request_path}: {exc.strerror}") from None
        if target.root is self.gcodes:
            await self.meta.remove(target.rel)
        return self.announce("delete_file", target, empty_info())

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

    async def finish_upload(self, upload: FinishedUpload) -> dict[str, object]:
        target = upload.target
        if self.job.touches(target.root.name, target.rel):
            raise Conflict("File is loaded, upload not permitted")
        if target.path.is_dir():
            raise BadRequest(f"Cannot overwrite a directory: {target.display}")
        await self._guard_config(target.path, upload.temp)
        gcode = target.root is self.gcodes and is_gcode(target.rel)
        if gcode and self.settings.enable_object_processing:
            # slicer object labels → EXCLUDE_OBJECT markers (exclude objects on the job card)
            await self.io(process_in_place, upload.temp)
        try:
            await self.io(_place, upload.temp, target.path)
        except OSError as exc:
            log.warning("upload of %s failed: %s", target.display, exc)
            raise ServerError("Unable to save file", 500) from None
        if gcode:
            # answered only once the metadata is there (as Moonraker): clients ask next
            await self.meta.extract(target.rel)
        # Moonraker reports create_file for uploads that replace a file too
        info = self.target_info(target)
        result = changed("create_file", target, info)
        if gcode:
            result["print_started"] = await self._start_print(target.rel, upload.start_print)
            result["print_queued"] = False
        self.announce("create_file", target, info)
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

    async def get_metadata(self, filename: str) -> dict[str, object] | None:
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
