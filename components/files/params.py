"""The parameters of the server.files.* endpoints, declared once for both doors."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta

from gateway.params import FilePath
from gateway.registry import Params

# a request path: "<root>/<path inside it>" ("gcodes/a/b.gcode"); the roots resolve it
RequestPath = FilePath


class RootArgs(Params):
    root: Annotated[str, Meta(min_length=1)] = "gcodes"


class DirectoryArgs(Params):
    path: RequestPath = "gcodes"
    extended: bool = False


class PathArgs(Params):
    path: RequestPath


class DeleteDirectoryArgs(Params):
    path: RequestPath
    force: bool = False


class MoveArgs(Params):
    source: RequestPath
    dest: RequestPath


class ZipArgs(Params):
    items: Annotated[list[RequestPath], Meta(min_length=1, max_length=10000)]
    # default: config/collection-<time>.zip
    dest: RequestPath | None = None
    store_only: bool = False


class FileArgs(Params):
    # a path inside the gcodes root
    filename: FilePath
