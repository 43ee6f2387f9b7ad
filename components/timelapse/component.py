"""The timelapse component: frames from the webcam while printing, a video after.

Events consumed: JobStarted (a new frame folder, the trigger starts), JobFinished
(the trigger stops; on "completed" a last frame, then the render when `autorender` - also
on "cancelled" with `render_cancelled`).
Notifications sent: notify_timelapse_event([event]) with moonraker-timelapse's events:
  {"action": "newframe", "status": "success", "frame": "3", "framefile": "frame000003.jpg"}
  {"action": "newframe", "status": "error", "msg": ...}      a skipped frame
  {"action": "render", "status": "started", "framecount", "settings": {...}}
  {"action": "render", "status": "running", "progress": 0..100}
  {"action": "render", "status": "success"|"error"|"skipped"|"running", "msg",
   "filename", "printfile", "previewimage", ...}
  {"action": "saveframes", "status": "finished", "zipfile"}
and notify_filelist_changed for the `timelapse` root when videos appear or go.
Console commands (with a printer): TIMELAPSE_TAKE_FRAME, TIMELAPSE_RENDER.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING

from components.files.api import FilesApi
from components.printer.api import JobFinished, JobStarted, PrinterApi
from components.timelapse import endpoints
from components.timelapse.api import TimelapseApi
from components.timelapse.camera import Snapshotter, snapshot_url
from components.timelapse.capture import Capturer
from components.timelapse.config import TimelapseSection
from components.timelapse.frames import FrameSet, latest_set, new_set, remove_sets
from components.timelapse.library import FRAMES_ROOT, ROOT, Library, LibraryFile, octoprint_entry
from components.timelapse.params import FileArgs
from components.timelapse.renderer import Renderer
from components.timelapse.settings import SettingsStore
from components.timelapse.trigger import Watcher
from components.webcams.api import WebcamsApi
from gateway.component import BaseComponent
from gateway.errors import BadRequest
from gateway.request import Request
from gateway.tasks import Background

if TYPE_CHECKING:
    from gateway.api import ServerApi

log = logging.getLogger(__name__)

OCTO_TYPES = {"layer": "zchange", "hyperlapse": "timed"}


class Timelapse(BaseComponent, TimelapseApi):
    moonraker_names = ("timelapse",)

    def __init__(self, server: ServerApi) -> None:
        self.server = server
        section = server.config.section("timelapse", TimelapseSection)
        self.store = SettingsStore(server.database, section,
                                   set(server.config.raw("timelapse")))
        data = server.data_dir
        self.library = Library(_folder(section.output_path, data / "timelapse"))
        self.frame_root = _folder(section.frame_path, data / "timelapse_frames")
        self.frame_root.mkdir(parents=True, exist_ok=True)
        self.snapshotter = Snapshotter()
        self.capturer = Capturer(self.snapshotter, self._notify, self._snapshot_url,
                                 self._printer)
        self.renderer = Renderer(self.library, self._notify)
        self.watcher: Watcher | None = None
        self.printing = False
        self._tasks = Background("timelapse task", logger=log)
        self.files = server.lookup(FilesApi)
        self.files.register_directory(ROOT, self.library.path, True)
        # the current print's frames, flat, as both frontends ask for them
        # (/server/files/timelapse_frames/frame000012.jpg for the last-frame preview)
        self.files.register_directory(FRAMES_ROOT, self.frame_root, False)
        endpoints.register(server, self)
        server.events.subscribe(JobStarted, self._on_started)
        server.events.subscribe(JobFinished, self._on_finished)

    @property
    def cfg(self) -> TimelapseSection:
        return self.store.cfg

    # -- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        await self.store.load()
        self._use_frames(await asyncio.to_thread(latest_set, self.frame_root))
        printer = self._printer()
        if printer is not None:
            printer.register_command("TIMELAPSE_TAKE_FRAME", self._cmd_frame,
                                     "Take a timelapse frame now")
            printer.register_command("TIMELAPSE_RENDER", self._cmd_render,
                                     "Render the timelapse of the last print")

    async def stop(self) -> None:
        if self.watcher is not None:
            await self.watcher.stop()
            self.watcher = None
        await self._tasks.cancel()
        await self.capturer.drain()
        self.snapshotter.close()

    def _spawn(self, coro: Coroutine[object, object, object]) -> asyncio.Future[object]:
        return self._tasks.spawn(coro)

    # -- the other components ----------------------------------------------------------

    def _printer(self) -> PrinterApi | None:
        return self.server.find(PrinterApi)

    async def _snapshot_url(self) -> str | None:
        return await snapshot_url(self.cfg.camera, self.server.find(WebcamsApi))

    def _notify(self, event: dict[str, object]) -> None:
        self.server.send_notification("notify_timelapse_event", [event])
        if event.get("action") == "render" and event.get("status") == "success":
            for name in (event.get("filename"), event.get("previewimage")):
                if name:
                    self._files_changed("create_file", str(name))
        elif event.get("action") == "saveframes" and event.get("zipfile"):
            self._files_changed("create_file", str(event["zipfile"]))

    def _files_changed(self, action: str, name: str) -> None:
        path = self.library.path / name
        try:
            st = path.stat()
            info = {"modified": st.st_mtime, "size": st.st_size, "permissions": "rw"}
        except OSError:
            info = {"modified": 0, "size": 0, "permissions": ""}
        self.server.send_notification("notify_filelist_changed", [
            {"action": action, "item": {"path": name, "root": ROOT, **info}}])

    # -- the print -------------------------------------------------------------------

    def _on_started(self, event: JobStarted) -> None:
        filename = event.filename
        self.printing = True
        if self.watcher is not None:  # a print that ended without JobFinished
            self._spawn(self.watcher.stop())
            self.watcher = None
        cfg = self.cfg
        if not cfg.enabled:
            return
        previous = self.capturer.frames
        frames = new_set(self.frame_root, filename, datetime.datetime.now())
        self._use_frames(frames)
        if not cfg.keep_frames and previous is not None:
            keep = {frames.path, *self.renderer.busy_with}
            self._spawn(asyncio.to_thread(remove_sets, self.frame_root, keep))
        printer = self._printer()
        if printer is None:
            return
        self.watcher = Watcher(printer, cfg.mode, cfg.hyperlapse_interval, self._fire)

    def _fire(self, reason: str) -> None:
        cfg = self.cfg
        if cfg.enabled:
            self.capturer.fire(cfg, reason, cfg.park)

    def _on_finished(self, event: JobFinished) -> None:
        self.printing = False
        watcher, self.watcher = self.watcher, None
        self._spawn(self._finish(watcher, event.status))

    async def _finish(self, watcher: Watcher | None, status: str) -> None:
        if watcher is None:
            return
        await watcher.stop()
        await self.capturer.drain()
        frames = self.capturer.frames
        cfg = self.cfg
        if frames is None:
            return
        if status == "completed" and cfg.enabled:
            await self.capturer.take(cfg, "the finished print", park=False)
        if status == "completed" or (status == "cancelled" and cfg.render_cancelled):
            if cfg.save_frames_zip:
                await self.renderer.save_frames(frames)
            if cfg.autorender:
                await self.renderer.render(frames, cfg)
        log.info("timelapse of %s: %d frames, %d skipped", frames.printfile, frames.count,
                 self.capturer.skipped)

    def _use_frames(self, frames: FrameSet | None) -> None:
        self.capturer.frames = frames
        self.files.repoint_directory(FRAMES_ROOT,
                                     frames.path if frames is not None else self.frame_root)

    # -- console -----------------------------------------------------------------------

    async def _cmd_frame(self, name: str, params: dict[str, str]) -> None:
        if self.capturer.frames is None:
            self._use_frames(await asyncio.to_thread(
                new_set, self.frame_root, "manual", datetime.datetime.now()))
        await self.capturer.take(self.cfg, "TIMELAPSE_TAKE_FRAME", park=False)

    async def _cmd_render(self, name: str, params: dict[str, str]) -> None:
        self._spawn(self.renderer.render(self.capturer.frames, self.cfg))

    # -- Moonraker API -------------------------------------------------------------------

    async def get_settings(self, request: Request) -> dict[str, object]:
        return self.store.moonraker(await self._snapshot_url() or "")

    async def post_settings(self, values: dict[str, object], request: Request) -> dict[str, object]:
        before = self.cfg
        await self.store.update(values)
        self._apply_mode_change(before)
        return await self.get_settings(request)

    def _apply_mode_change(self, before: TimelapseSection) -> None:
        """A changed mode, interval or switch applies to the print under way."""
        cfg = self.cfg
        changed = (before.mode, before.hyperlapse_interval, before.enabled) != (
            cfg.mode, cfg.hyperlapse_interval, cfg.enabled)
        if not changed or not self.printing:
            return
        if self.watcher is not None:
            self._spawn(self.watcher.stop())
            self.watcher = None
        printer = self._printer()
        if cfg.enabled and printer is not None and self.capturer.frames is not None:
            self.watcher = Watcher(printer, cfg.mode, cfg.hyperlapse_interval, self._fire)

    def lastframeinfo(self, request: Request) -> dict[str, object]:
        frames = self.capturer.frames
        return {"framecount": frames.count if frames else 0,
                "lastframefile": frames.last if frames else ""}

    async def render_request(self, request: Request) -> dict[str, object]:
        frames = self.capturer.frames
        if frames is None or not frames.count:
            frames = await asyncio.to_thread(latest_set, self.frame_root) or frames
        return await self.renderer.render(frames, self.cfg)

    async def saveframes_request(self, request: Request) -> dict[str, object]:
        return await self.renderer.save_frames(self.capturer.frames)

    async def list_files(self, request: Request) -> list[LibraryFile]:
        return await asyncio.to_thread(self.library.files)

    async def delete_file_request(self, args: FileArgs, request: Request) -> dict[str, object]:
        name = args.filename
        removed = await self.delete_file(name)
        return {"action": "delete_file", "item": {"path": removed[0], "root": ROOT},
                "removed": removed}

    async def delete_file(self, name: str) -> list[str]:
        removed = await asyncio.to_thread(self.library.delete, name)
        for gone in removed:
            self._files_changed("delete_file", gone)
        return removed

    # -- OctoPrint -----------------------------------------------------------------------

    async def octoprint_listing(self) -> dict[str, object]:
        cfg = self.cfg
        config: dict[str, object] = {"type": OCTO_TYPES[cfg.mode] if cfg.enabled else "off",
                                  "fps": cfg.fps, "postRoll": 0}
        if cfg.mode == "hyperlapse":
            config["interval"] = int(cfg.hyperlapse_interval)
        videos = await asyncio.to_thread(self.library.videos)
        return {"config": config, "enabled": cfg.enabled,
                "files": [octoprint_entry(f, self.library) for f in videos],
                "unrendered": self._unrendered()}

    def _unrendered(self) -> list[dict[str, object]]:
        frames = self.capturer.frames
        if frames is None or not frames.count:
            return []
        return [{"name": frames.path.name, "count": frames.count,
                 "recording": self.printing, "rendering": self.renderer.running}]

    async def octoprint_configure(self, data: dict[str, object]) -> dict[str, object]:
        """OctoPrint's `POST /api/timelapse` body: type off|zchange|timed, fps, interval."""
        changes: dict[str, object] = {}
        kind = data.get("type")
        if kind == "off":
            changes["enabled"] = False
        elif kind in ("zchange", "timed"):
            changes["enabled"] = True
            changes["mode"] = "layermacro" if kind == "zchange" else "hyperlapse"
        elif kind is not None:
            raise BadRequest(f"Unknown timelapse type: {kind}")
        if "fps" in data:
            changes["output_framerate"] = data["fps"]
        if "interval" in data:
            changes["hyperlapse_cycle"] = data["interval"]
        before = self.cfg
        await self.store.update(changes)
        self._apply_mode_change(before)
        return await self.octoprint_listing()

    # -- Octolapse (a documented subset, see docs/timelapse.md) ---------------------------

    async def octolapse_status(self) -> dict[str, object]:
        frames = self.capturer.frames
        return {
            "is_timelapse_active": self.watcher is not None,
            "is_taking_snapshot": self.capturer.busy,
            "is_rendering": self.renderer.running,
            "render_progress": self.renderer.progress,
            "snapshot_count": frames.count if frames else 0,
            "snapshots_skipped": self.capturer.skipped,
            "last_snapshot": frames.last if frames else "",
            "last_video": self.renderer.last_video,
            "last_error": self.renderer.last_error or self.capturer.last_error,
            "snapshot_url": await self._snapshot_url() or "",
        }

    def octolapse_settings(self) -> dict[str, object]:
        cfg = self.cfg
        return {
            "is_octolapse_enabled": cfg.enabled,
            "trigger": {"type": "layer" if cfg.mode == "layer" else "timer",
                        "interval": cfg.hyperlapse_interval},
            "camera": {"name": cfg.camera, "timeout": cfg.snapshot_timeout,
                       "delay": cfg.snapshot_delay},
            "stabilization": {"park": cfg.park, "park_gcode": cfg.park_gcode,
                              "settle_time": cfg.park_settle_time},
            "rendering": {"enabled": cfg.autorender, "fps": cfg.fps, "crf": cfg.crf,
                          "output_format": "mp4", "min_duration": cfg.min_duration,
                          "max_duration": cfg.max_duration, "thumbnail": cfg.thumbnail,
                          "keep_frames": cfg.keep_frames,
                          "render_cancelled": cfg.render_cancelled},
        }


def _folder(setting: str, default: Path) -> Path:
    return Path(setting).expanduser() if setting else default
