"""Entry point: G-code file -> Moonraker-shaped metadata dict."""

from __future__ import annotations

import logging
import os
import uuid
from pathlib import Path

from .reader import Opener, read_slices
from .slicers import GcodeSource, identify_parser
from .slicers.base import FieldValue
from .thumbnails import find_thumbnail_blocks, write_thumbnails

__all__ = ["extract_metadata", "parse_gcode"]

log = logging.getLogger(__name__)


def _decode(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def parse_gcode(
    path: Path,
    *,
    opener: Opener | None = None,
) -> tuple[str, str, dict[str, FieldValue], GcodeSource]:
    """Read and parse ``path`` without touching the file system otherwise.

    Returns (slicer, slicer_version, fields, source).  Raises ``OSError``
    only when the file cannot be read.
    """
    slices = read_slices(path, opener=opener)
    head_text = _decode(slices.head)
    tail_text = head_text if slices.whole else _decode(slices.tail)
    src = GcodeSource(
        head=head_text,
        tail=tail_text,
        head_bytes=slices.head,
        tail_bytes=slices.tail,
        tail_offset=slices.tail_offset,
        size=slices.size,
    )
    parser = identify_parser(src)
    try:
        fields = parser.run()
    except Exception:  # pragma: no cover - run() already guards each field
        log.exception("metadata parser %s failed on %s", parser.name, path)
        fields = {}
    return parser.name, parser.version, fields, src


def extract_metadata(
    path: Path,
    root_dir: Path | None = None,
    relative_path: str | None = None,
    *,
    opener: Opener | None = None,
    thumbnails: bool = True,
    miniature: bool = True,
    file_uuid: str | None = None,
) -> dict[str, object]:
    """Extract Moonraker-compatible metadata for the G-code file ``path``.

    ``relative_path`` is the name the client uses (e.g. ``"parts/cube.gcode"``,
    reported as ``filename``); when omitted it is derived from ``root_dir``
    or falls back to the file name.  Only the head and tail of the file are
    read.  Thumbnails are written to ``.thumbs/`` beside the file unless
    ``thumbnails`` is False; the 32x32 miniature only when ``miniature`` (it costs
    far more than everything else: callers on a hot path add it later with
    ``add_miniature``).  The result is JSON-serialisable.

    Content problems (empty, binary, truncated, unknown slicer) never raise;
    ``OSError`` is raised only if the file cannot be stat'ed or read.
    """
    path = Path(path)
    st = os.stat(path)
    if relative_path is None:
        if root_dir is not None:
            try:
                relative_path = path.relative_to(root_dir).as_posix()
            except ValueError:
                relative_path = path.name
        else:
            relative_path = path.name

    slicer, version, fields, src = parse_gcode(path, opener=opener)
    metadata: dict[str, object] = {
        "size": st.st_size,
        "modified": st.st_mtime,
        "uuid": file_uuid or str(uuid.uuid4()),
        "file_processors": [],
        "slicer": slicer,
        "slicer_version": version,
    }
    metadata.update(fields)
    if thumbnails:
        try:
            blocks = find_thumbnail_blocks(src.head_bytes)
            if not src.whole:
                blocks += find_thumbnail_blocks(src.tail_bytes)
            thumbs = write_thumbnails(blocks, path, st.st_mtime_ns, make_miniature=miniature)
        except Exception:  # thumbnails are best effort
            log.exception("thumbnail extraction failed for %s", path)
            thumbs = []
        if thumbs:
            metadata["thumbnails"] = [dict(t) for t in thumbs]
    metadata["print_start_time"] = None
    metadata["job_id"] = None
    metadata["filename"] = relative_path
    return metadata
