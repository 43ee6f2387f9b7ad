"""The `[timelapse]` section, typed (every option is documented in docs/timelapse.md),
and the settings the frontends read and change, under Moonraker-timelapse's names.

Options written in `[timelapse]` are fixed: the settings API reports them in
`blockedsettings` and ignores changes to them, as moonraker-timelapse does. Every other
setting starts from its default and may be changed through `machine.timelapse.
post_settings` (or OctoPrint's `POST /api/timelapse`); changes are stored in the database
(namespace "timelapse", key "config", Moonraker's field names).
"""

from __future__ import annotations

import msgspec

MODES = ("layer", "hyperlapse")
ROTATIONS = (0, 90, 180, 270)


class TimelapseSection(msgspec.Struct, kw_only=True):
    # -- capture --------------------------------------------------------------------
    enabled: bool = True
    # a [webcam NAME] (or a webcam stored by the frontends), or a snapshot URL;
    # empty: the first enabled webcam that has a snapshot URL
    camera: str = ""
    mode: str = "layer"
    hyperlapse_interval: float = 30.0
    snapshot_timeout: float = 2.0
    snapshot_delay: float = 0.0
    park: bool = False
    park_gcode: str = ""
    park_settle_time: float = 0.5
    gcode_verbose: bool = False
    # -- render ---------------------------------------------------------------------
    autorender: bool = True
    render_cancelled: bool = False
    fps: int = 30
    crf: int = 23
    pixel_format: str = "yuv420p"
    min_duration: float = 0.0
    max_duration: float = 0.0
    variable_fps: bool = False
    target_duration: float = 10.0
    variable_fps_min: int = 5
    variable_fps_max: int = 60
    duplicate_last_frame: int = 0
    rotation: int = 0
    flip_x: bool = False
    flip_y: bool = False
    thumbnail: bool = True
    keep_frames: bool = False
    save_frames_zip: bool = False
    time_format: str = "%Y%m%d_%H%M%S"
    # -- places and tools (fixed: not changeable through the API) ---------------------
    output_path: str = ""  # default: DATA_DIR/timelapse
    frame_path: str = ""  # default: DATA_DIR/timelapse_frames
    ffmpeg_path: str = "ffmpeg"

    def __post_init__(self) -> None:
        problem = check(self)
        if problem:
            raise ValueError(problem)


def check(cfg: TimelapseSection) -> str | None:
    """The message for an impossible value, or None."""
    if cfg.mode not in MODES:
        return f"option 'mode': expected one of {', '.join(MODES)}, got {cfg.mode!r}"
    positive = {"hyperlapse_interval": cfg.hyperlapse_interval,
                "snapshot_timeout": cfg.snapshot_timeout, "fps": cfg.fps,
                "target_duration": cfg.target_duration,
                "variable_fps_min": cfg.variable_fps_min}
    for name, value in positive.items():
        if value <= 0:
            return f"option '{name}': expected a number above 0, got {value}"
    not_negative = {"snapshot_delay": cfg.snapshot_delay,
                    "park_settle_time": cfg.park_settle_time,
                    "min_duration": cfg.min_duration, "max_duration": cfg.max_duration,
                    "duplicate_last_frame": cfg.duplicate_last_frame}
    for name, value in not_negative.items():
        if value < 0:
            return f"option '{name}': expected 0 or more, got {value}"
    if not 0 <= cfg.crf <= 51:
        return f"option 'crf': expected 0 to 51, got {cfg.crf}"
    if cfg.max_duration and cfg.min_duration > cfg.max_duration:
        return "option 'min_duration': expected at most max_duration"
    if cfg.variable_fps_max < cfg.variable_fps_min:
        return "option 'variable_fps_max': expected at least variable_fps_min"
    if cfg.rotation not in ROTATIONS:
        return f"option 'rotation': expected 0, 90, 180 or 270, got {cfg.rotation}"
    if not cfg.pixel_format.replace("_", "").isalnum():
        return f"option 'pixel_format': not a pixel format: {cfg.pixel_format!r}"
    if "/" in cfg.time_format or "\x00" in cfg.time_format:
        return "option 'time_format': must not contain '/'"
    return None


# options only the config file sets (never through the API)
FIXED = ("output_path", "frame_path", "ffmpeg_path", "park_gcode", "snapshot_timeout")

# Moonraker-timelapse's setting -> ours (None: reported, never changed: no equivalent here)
MOONRAKER_KEYS: dict[str, str] = {
    "enabled": "enabled",
    "mode": "mode",
    "camera": "camera",
    "stream_delay_compensation": "snapshot_delay",
    "gcode_verbose": "gcode_verbose",
    "parkhead": "park",
    "park_time": "park_settle_time",
    "hyperlapse_cycle": "hyperlapse_interval",
    "autorender": "autorender",
    "constant_rate_factor": "crf",
    "output_framerate": "fps",
    "pixelformat": "pixel_format",
    "time_format_code": "time_format",
    "variable_fps": "variable_fps",
    "targetlength": "target_duration",
    "variable_fps_min": "variable_fps_min",
    "variable_fps_max": "variable_fps_max",
    "rotation": "rotation",
    "flip_x": "flip_x",
    "flip_y": "flip_y",
    "duplicatelastframe": "duplicate_last_frame",
    "previewimage": "thumbnail",
    "saveframes": "save_frames_zip",
    # ours, under our own names (the frontends ignore them)
    "keep_frames": "keep_frames",
    "min_duration": "min_duration",
    "max_duration": "max_duration",
    "render_cancelled": "render_cancelled",
}
OURS_TO_MOONRAKER = {ours: theirs for theirs, ours in MOONRAKER_KEYS.items()}

# moonraker-timelapse settings for its Klipper macros: parking here is PAUSE/RESUME plus
# park_gcode, so these are reported with Moonraker's defaults and always blocked
UNSUPPORTED: dict[str, object] = {
    "parkpos": "custom",
    "park_custom_pos_x": 0.0,
    "park_custom_pos_y": 0.0,
    "park_custom_pos_dz": 0.0,
    "park_travel_speed": 100,
    "park_retract_speed": 15,
    "park_extrude_speed": 15,
    "park_retract_distance": 1.0,
    "park_extrude_distance": 1.0,
    "fw_retract": False,
    "extraoutputparams": "",
}

# our mode <-> Moonraker's ("layermacro": a frame per layer)
MODE_TO_MOONRAKER = {"layer": "layermacro", "hyperlapse": "hyperlapse"}
MODE_FROM_MOONRAKER = {"layermacro": "layer", "layer": "layer", "hyperlapse": "hyperlapse"}


def to_moonraker(name: str, value: object) -> object:
    return MODE_TO_MOONRAKER[str(value)] if name == "mode" else value


def from_moonraker(name: str, value: object) -> object:
    """A Moonraker-named setting's value in our terms (ValueError when impossible)."""
    if name == "mode":
        if value not in MODE_FROM_MOONRAKER:
            raise ValueError(f"Invalid value for 'mode': {value}")
        return MODE_FROM_MOONRAKER[value]
    return value


def replace(cfg: TimelapseSection, changes: dict[str, object]) -> TimelapseSection:
    """A checked copy with `changes` (our names); ValueError / msgspec.ValidationError."""
    merged = {**msgspec.structs.asdict(cfg), **changes}
    return msgspec.convert(merged, TimelapseSection, strict=False)
