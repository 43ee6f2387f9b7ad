"""Parameters of the timelapse endpoints, declared once."""

from __future__ import annotations

from gateway.params import FileName
from gateway.registry import Params


class FileArgs(Params):
    # a video or frame archive in the timelapse folder
    filename: FileName
