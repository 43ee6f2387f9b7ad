"""Frames to video with ffmpeg, run as an asyncio subprocess (the loop never waits on
it). H.264 (libx264) when this ffmpeg has it, MPEG-4 Part 2 otherwise.

Duration clamps keep the output frame rate and change how long each frame shows: a
video shorter than min_duration repeats frames, one longer than max_duration drops
frames (ffmpeg reads the images at n/duration frames per second; its fps filter writes
`fps`).
`variable_fps` instead picks the output rate from the frame count (n / target_duration,
kept within variable_fps_min..max), as moonraker-timelapse does.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from components.timelapse.config import TimelapseSection
from components.timelapse.frames import PATTERN

PACKAGE_HINT = "install the Debian package 'ffmpeg' (apt install ffmpeg)"
_encoders: dict[str, set[str]] = {}
_FRAME_LINE = re.compile(rb"^frame=\s*(\d+)")


class RenderError(Exception):
    pass


def find_ffmpeg(setting: str) -> str:
    """The ffmpeg to run (a name looked up on PATH, or a path); RenderError if none."""
    found = shutil.which(setting or "ffmpeg")
    if found is None:
        raise RenderError(
            f"ffmpeg not found ({setting or 'ffmpeg'!r} is not on PATH or not executable): "
            f"{PACKAGE_HINT}, or set ffmpeg_path in [timelapse]")
    return found


async def encoders(ffmpeg: str) -> set[str]:
    """The video encoders this ffmpeg offers (asked once per binary)."""
    cached = _encoders.get(ffmpeg)
    if cached is not None:
        return cached
    proc = await asyncio.create_subprocess_exec(
        ffmpeg, "-hide_banner", "-nostdin", "-encoders",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    out, _ = await proc.communicate()
    names = set()
    for line in out.decode("utf-8", "replace").splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].startswith("V"):
            names.add(parts[1])
    _encoders[ffmpeg] = names
    return names


@dataclass(frozen=True, slots=True)
class Plan:
    frames: int
    fps: int  # output frame rate
    input_rate: Fraction  # images read per second
    expected: int  # frames in the video

    @property
    def duration(self) -> float:
        return self.expected / self.fps


def plan(frames: int, cfg: TimelapseSection) -> Plan:
    fps = cfg.fps
    if cfg.variable_fps:
        fps = max(cfg.variable_fps_min, min(cfg.variable_fps_max,
                                            round(frames / cfg.target_duration)))
    fps = max(1, fps)
    natural = frames / fps
    wanted = natural
    if cfg.min_duration and wanted < cfg.min_duration:
        wanted = cfg.min_duration
    if cfg.max_duration and wanted > cfg.max_duration:
        wanted = cfg.max_duration
    if wanted == natural:
        return Plan(frames, fps, Fraction(fps), frames)
    rate = (Fraction(frames) / Fraction(wanted)).limit_denominator(100000)
    return Plan(frames, fps, rate, max(1, round(wanted * fps)))


def filters(cfg: TimelapseSection) -> list[str]:
    out: list[str] = []
    if cfg.rotation == 90:
        out.append("transpose=clock")
    elif cfg.rotation == 180:
        out += ["hflip", "vflip"]
    elif cfg.rotation == 270:
        out.append("transpose=cclock")
    if cfg.flip_x:
        out.append("hflip")
    if cfg.flip_y:
        out.append("vflip")
    return out


def video_args(cfg: TimelapseSection, codec: str) -> list[str]:
    if codec == "libx264":
        return ["-c:v", "libx264", "-crf", str(cfg.crf), "-preset", "veryfast"]
    # MPEG-4 Part 2 has no CRF: its quantiser 2 (best)..31 follows crf's 0..51
    q = max(2, min(31, round(cfg.crf * 31 / 51)))
    return ["-c:v", "mpeg4", "-q:v", str(q)]


def command(ffmpeg: str, folder: Path, out: Path, p: Plan, cfg: TimelapseSection,
            codec: str) -> list[str]:
    # the fps filter repeats or drops frames to the output rate (exact counts, unlike -r)
    resample = [f"fps={p.fps}"] if p.input_rate != p.fps else []
    chain = [*resample, *filters(cfg), "scale=trunc(iw/2)*2:trunc(ih/2)*2"]
    args = [ffmpeg, "-hide_banner", "-nostdin", "-y", "-loglevel", "error",
            "-framerate", str(p.input_rate), "-start_number", "1",
            "-i", str(folder / PATTERN), "-vf", ",".join(chain)]
    args += [*video_args(cfg, codec), "-pix_fmt", cfg.pixel_format, "-an",
             "-progress", "pipe:1", "-nostats", "-f", "mp4", str(out)]
    return args


async def run(args: list[str], progress: Callable[[int], None], expected: int) -> None:
    """Run ffmpeg; `progress(percent)` as it goes; RenderError with its last words."""
    proc = await asyncio.create_subprocess_exec(
        *args, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    tail: list[str] = []

    async def read_errors() -> None:
        assert proc.stderr is not None
        async for line in proc.stderr:
            tail.append(line.decode("utf-8", "replace").rstrip())
            del tail[:-10]

    errors = asyncio.ensure_future(read_errors())
    last = -1
    try:
        async for line in proc.stdout:
            match = _FRAME_LINE.match(line)
            if match is None:
                continue
            percent = min(100, int(int(match.group(1)) * 100 / max(1, expected)))
            if percent != last:
                last = percent
                progress(percent)
        code = await proc.wait()
        await errors
    except asyncio.CancelledError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
        errors.cancel()
        raise
    if code != 0:
        detail = "; ".join(tail[-3:]) or f"exit status {code}"
        raise RenderError(f"ffmpeg failed: {detail}")


async def thumbnail(ffmpeg: str, frame: Path, out: Path, cfg: TimelapseSection) -> None:
    """The last frame beside the video, turned like the video."""
    chain = filters(cfg)
    if not chain:
        await asyncio.to_thread(shutil.copyfile, frame, out)
        return
    proc = await asyncio.create_subprocess_exec(
        ffmpeg, "-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-i", str(frame),
        "-vf", ",".join(chain), "-frames:v", "1", str(out),
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE)
    _, err = await proc.communicate()
    if proc.returncode != 0:
        raise RenderError(f"thumbnail failed: {err.decode('utf-8', 'replace').strip()}")
