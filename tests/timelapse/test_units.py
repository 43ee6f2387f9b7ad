"""The pieces on their own: duration clamps (with ffmpeg), the MPEG-4 fallback, ffmpeg
lookup, layer detection by Z, snapshot failures, config checks."""

from __future__ import annotations

import asyncio
import socket
from fractions import Fraction
from pathlib import Path
from typing import Any

import msgspec
import pytest

from components.timelapse import ffmpeg
from components.timelapse.camera import SnapshotError, Snapshotter
from components.timelapse.config import TimelapseSection, replace
from components.timelapse.frames import FrameSet, frame_name, safe_stem
from components.timelapse.library import Library
from components.timelapse.renderer import Renderer
from components.timelapse.trigger import LayerDetector
from components.webcams.camera import full_url
from gateway.errors import BadRequest
from tests.timelapse.conftest import FFMPEG, ffprobe_codec, ffprobe_frames, needs_ffmpeg


def cfg(**kw: Any) -> TimelapseSection:
    return replace(TimelapseSection(), kw)


def test_plan_keeps_fps_and_clamps_duration() -> None:
    assert ffmpeg.plan(40, cfg(fps=20)) == ffmpeg.Plan(40, 20, Fraction(20), 40)
    short = ffmpeg.plan(4, cfg(fps=10, min_duration=2))
    assert short.input_rate == Fraction(2) and short.expected == 20 and short.duration == 2
    long = ffmpeg.plan(600, cfg(fps=30, max_duration=10))
    assert long.input_rate == Fraction(60) and long.expected == 300
    vfps = ffmpeg.plan(100, cfg(variable_fps=True, target_duration=10, variable_fps_min=5))
    assert vfps.fps == 10 and vfps.expected == 100
    assert ffmpeg.plan(3, cfg(variable_fps=True)).fps == 5  # kept at variable_fps_min


def test_filters_and_codec_args() -> None:
    assert ffmpeg.filters(cfg(rotation=90, flip_x=True)) == ["transpose=clock", "hflip"]
    assert ffmpeg.video_args(cfg(crf=23), "libx264")[:4] == ["-c:v", "libx264", "-crf", "23"]
    assert ffmpeg.video_args(cfg(crf=51), "mpeg4") == ["-c:v", "mpeg4", "-q:v", "31"]


@pytest.mark.parametrize("bad", [{"mode": "sometimes"}, {"crf": 60}, {"fps": 0},
                                 {"rotation": 45}, {"min_duration": 5, "max_duration": 2}])
def test_impossible_values_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises((ValueError, msgspec.ValidationError)):
        cfg(**bad)


def test_missing_ffmpeg_names_the_package(monkeypatch: pytest.MonkeyPatch,
                                          tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ffmpeg.RenderError) as err:
        ffmpeg.find_ffmpeg("ffmpeg")
    assert "apt install ffmpeg" in str(err.value) and "ffmpeg_path" in str(err.value)


def test_layers_by_z_when_the_file_has_no_markers() -> None:
    det = LayerDetector()

    def feed(z: float, state: str = "printing") -> int | None:
        return det.feed({"print_stats": {"state": state, "info": {"current_layer": None}},
                         "gcode_move": {"gcode_position": [0, 0, z, 0]}})

    assert [feed(z) for z in (0.0, 0.2, 0.2, 0.4, 0.3, 0.4, 0.6)] == [
        None, None, None, 1, None, None, 2]
    assert feed(0.8, "paused") is None
    # markers win once seen
    det2 = LayerDetector()
    seq = [det2.feed({"print_stats": {"state": "printing", "info": {"current_layer": n}}})
           for n in (0, 0, 1, 3)]
    assert seq == [None, None, 0, 1]


def test_names() -> None:
    assert safe_stem("sub/My Part (2).gcode") == "My_Part_2"
    assert safe_stem("sd:CUBE.GCO") == "CUBE"
    assert full_url("/webcam/?action=snapshot") == "http://127.0.0.1/webcam/?action=snapshot"
    lib = Library(Path("/tmp"))
    for bad in ("../x.mp4", "a/b.mp4", ".hidden", ""):
        with pytest.raises(BadRequest):
            lib.resolve(bad)


async def test_refused_camera_is_a_snapshot_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    snap = Snapshotter()
    try:
        with pytest.raises(SnapshotError):
            await snap.fetch(f"http://127.0.0.1:{port}/snapshot", 1.0)
    finally:
        snap.close()


def _frames(folder: Path, jpegs: list[bytes], n: int) -> FrameSet:
    folder.mkdir()
    for i in range(1, n + 1):
        (folder / frame_name(i)).write_bytes(jpegs[i % len(jpegs)])
    fs = FrameSet(folder, "part.gcode")
    fs.recount()
    return fs


@needs_ffmpeg
@pytest.mark.parametrize(("options", "n", "expected"), [
    ({"fps": 10, "min_duration": 2.0}, 4, 20),  # repeated frames
    ({"fps": 10, "max_duration": 0.5}, 12, 5),  # dropped frames
    ({"fps": 10, "duplicate_last_frame": 3}, 4, 7),
])
async def test_render_clamps(tmp_path: Path, jpeg_frames: list[bytes],
                             options: dict[str, Any], n: int, expected: int) -> None:
    seen: list[dict[str, Any]] = []
    renderer = Renderer(Library(tmp_path / "out"), seen.append)
    frames = _frames(tmp_path / "frames", jpeg_frames, n)
    result = await renderer.render(frames, cfg(ffmpeg_path=FFMPEG or "", **options))
    assert result["status"] == "success", result
    video = tmp_path / "out" / result["filename"]
    count = await asyncio.to_thread(ffprobe_frames, video)
    assert count == expected
    assert not frames.path.exists()  # removed after the render
    assert next(e["status"] for e in seen if e["action"] == "render") == "started"


@needs_ffmpeg
async def test_mpeg4_when_there_is_no_libx264(tmp_path: Path, jpeg_frames: list[bytes],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    assert FFMPEG is not None
    monkeypatch.setitem(ffmpeg._encoders, FFMPEG, {"mpeg4"})
    renderer = Renderer(Library(tmp_path / "out"), lambda _e: None)
    frames = _frames(tmp_path / "frames", jpeg_frames, 3)
    result = await renderer.render(frames, cfg(ffmpeg_path=FFMPEG, keep_frames=True,
                                               rotation=90))
    assert result["status"] == "success" and result["codec"] == "mpeg4"
    video = tmp_path / "out" / result["filename"]
    assert await asyncio.to_thread(ffprobe_codec, video) == "mpeg4"
    assert await asyncio.to_thread(ffprobe_frames, video) == 3
    assert len(frames.files()) == 3  # kept
    assert (tmp_path / "out" / result["previewimage"]).is_file()


def test_docs_show_every_option_with_its_default(tmp_path: Path) -> None:
    from gateway.config import Config

    text = (Path(__file__).resolve().parents[2] / "docs" / "timelapse.md").read_text()
    block = text.split("```ini\n", 1)[1].split("```", 1)[0]
    (tmp_path / "x.conf").write_text(block)
    conf = Config.load(tmp_path / "x.conf")
    declared = {f.name for f in msgspec.structs.fields(TimelapseSection)}
    assert set(conf.raw("timelapse")) == declared
    assert conf.section("timelapse", TimelapseSection) == TimelapseSection()
    for name in declared:
        assert f"`{name}`" in text
