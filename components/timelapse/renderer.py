"""One render at a time: a print's frames to `timelapse_<print>_<date>.mp4` in the
output folder, a thumbnail beside it, the frames removed unless kept, and the `render`
events moonraker-timelapse sends (started, running with progress, success / error /
skipped)."""

from __future__ import annotations

import asyncio
import datetime
import logging
import shutil
from pathlib import Path

from components.timelapse import ffmpeg
from components.timelapse.capture import Notify
from components.timelapse.config import TimelapseSection
from components.timelapse.frames import FrameSet, frame_name, safe_stem, zip_frames
from components.timelapse.library import Library

log = logging.getLogger(__name__)


class Renderer:
    def __init__(self, library: Library, notify: Notify) -> None:
        self.library = library
        self.notify = notify
        self.running = False
        self.progress = 0
        self.last_video = ""
        self.last_error = ""
        self.busy_with: set[Path] = set()  # the frame folder being rendered

    async def render(self, frames: FrameSet | None, cfg: TimelapseSection) -> dict[str, object]:
        result: dict[str, object] = {"action": "render"}
        if self.running:
            return self._end(result, "running", "render is already running")
        if frames is not None:
            await asyncio.to_thread(frames.recount)
        if frames is None or not frames.count:
            return self._end(result, "skipped", "no frames to render, skip")
        try:
            program = ffmpeg.find_ffmpeg(cfg.ffmpeg_path)
        except ffmpeg.RenderError as exc:
            log.error("timelapse: %s", exc)
            return self._end(result, "error", str(exc))
        self.running = True
        self.progress = 0
        self.busy_with = {frames.path}
        try:
            return await self._render(program, frames, cfg, result)
        finally:
            self.running = False
            self.busy_with = set()

    async def _render(self, program: str, frames: FrameSet, cfg: TimelapseSection,
                      result: dict[str, object]) -> dict[str, object]:
        stem = f"timelapse_{safe_stem(frames.printfile)}_" \
               f"{datetime.datetime.now().strftime(cfg.time_format)}"
        out = self.library.unique(stem, ".mp4")
        partial = out.with_name(f".{out.name}.part")
        duplicates = await asyncio.to_thread(_duplicate_last, frames, cfg.duplicate_last_frame)
        count = frames.count + len(duplicates)
        try:
            codec = "libx264" if "libx264" in await ffmpeg.encoders(program) else "mpeg4"
            p = ffmpeg.plan(count, cfg)
            self.notify({**result, "status": "started", "framecount": str(count),
                         "settings": {"framerate": p.fps, "crf": cfg.crf,
                                      "pixelformat": cfg.pixel_format, "codec": codec}})
            args = ffmpeg.command(program, frames.path, partial, p, cfg, codec)
            log.info("timelapse: rendering %d frames to %s (%s, %d fps, %.1f s)",
                     count, out.name, codec, p.fps, p.duration)
            await ffmpeg.run(args, self._progress, p.expected)
            partial.replace(out)
            result.update(filename=out.name, printfile=frames.printfile,
                          framecount=str(count), codec=codec, duration=p.duration)
            last = frames.path / frame_name(frames.count)
            if cfg.thumbnail:
                thumb = out.with_suffix(".jpg")
                try:
                    await ffmpeg.thumbnail(program, last, thumb, cfg)
                    result["previewimage"] = thumb.name
                except (ffmpeg.RenderError, OSError) as exc:
                    log.warning("timelapse: %s", exc)
        except (ffmpeg.RenderError, OSError) as exc:
            partial.unlink(missing_ok=True)
            log.error("timelapse: rendering %s failed: %s", out.name, exc)
            return self._end(result, "error", f"Rendering Video failed: {exc}")
        finally:
            for dup in duplicates:
                dup.unlink(missing_ok=True)
        self.last_video = out.name
        if not cfg.keep_frames:
            await asyncio.to_thread(shutil.rmtree, frames.path, True)
            frames.count, frames.last = 0, ""
        return self._end(result, "success", f"Rendering Video successful: {out.name}")

    def _progress(self, percent: int) -> None:
        self.progress = percent
        self.notify({"action": "render", "status": "running", "progress": percent})

    def _end(self, result: dict[str, object], status: str, msg: str) -> dict[str, object]:
        result.update(status=status, msg=msg)
        if status == "error":
            self.last_error = msg
        elif status == "success":
            self.last_error = ""
        self.notify(dict(result))
        return result

    async def save_frames(self, frames: FrameSet | None) -> dict[str, object]:
        result: dict[str, object] = {"action": "saveframes"}
        if frames is not None:
            await asyncio.to_thread(frames.recount)
        if frames is None or not frames.count:
            result.update(status="skipped", msg="no frames to save, skip")
            return result
        stem = f"timelapse_{safe_stem(frames.printfile)}_{frames.path.name}_frames"
        dest = self.library.unique(stem, ".zip")
        await asyncio.to_thread(zip_frames, frames, dest)
        result.update(status="finished", zipfile=dest.name)
        self.notify(dict(result))
        return result


def _duplicate_last(frames: FrameSet, n: int) -> list[Path]:
    """moonraker-timelapse's duplicatelastframe: the last frame n more times."""
    if n <= 0 or not frames.count:
        return []
    last = frames.path / frame_name(frames.count)
    made: list[Path] = []
    for i in range(1, n + 1):
        dup = frames.path / frame_name(frames.count + i)
        shutil.copyfile(last, dup)
        made.append(dup)
    return made
