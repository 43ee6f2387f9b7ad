"""Parameters of the timelapse endpoints, declared once."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta

from gateway.registry import Params


class FileArgs(Params):
    # a video or frame archive in the timelapse folder
    filename: Annotated[str, Meta(min_length=1, max_length=255)]
