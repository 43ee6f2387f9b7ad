"""One upload: form fields in, a checked file renamed into place out.

The HTTP handler feeds the session plain data in body order. The file's bytes go to a
hidden temp file in the destination root (`tempwriter`), so the final `os.replace` is
atomic and a listing never shows half a file. Any failure - bad form, checksum
mismatch, disk full, client gone - removes the temp file.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import shutil
from collections.abc import Awaitable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from gateway.errors import BadRequest, Forbidden, ServerError
from gateway.gcode_text import check_name
from gateway.request import Caller

from .roots import Root, Roots, Target
from .tempwriter import TempWriter, sha256_file


class InsufficientStorage(ServerError):
    status = 507


@dataclass(slots=True)
class FinishedUpload:
    """What the component needs to put the file in place (the temp file is complete
    and checked)."""

    target: Target
    temp: Path
    start_print: bool
    caller: Caller


class UploadHost(Protocol):
    @property
    def roots(self) -> Roots: ...

    @property
    def io_executor(self) -> concurrent.futures.Executor: ...

    async def finish_upload(self, upload: FinishedUpload) -> dict[str, object]: ...


def _writable(roots: Roots, name: str) -> Root:
    root = roots.get(name.lower())
    if root is None:
        raise BadRequest(f"Root {name} not available")
    if not root.writable:
        raise Forbidden(f"Root '{root.name}' is read-only")
    return root


def destination(roots: Roots, fields: dict[str, str], filename: str) -> Target:
    """The checked target of an upload: root/path/filename ('/' prefixes are taken
    relative to the root, as Moonraker does)."""
    root = _writable(roots, fields.get("root", "gcodes") or "gcodes")
    name = filename.strip().lstrip("/")
    if not name or name.endswith("/"):
        raise BadRequest("Multipart filename omitted")
    directory = fields.get("path", "").strip().strip("/")
    target = roots.resolve(root, f"{directory}/{name}" if directory else name)
    check_name(name)
    check_name(directory, "folder name")
    return target


class Upload:
    def __init__(self, host: UploadHost, caller: Caller, content_length: int | None) -> None:
        self.host = host
        self.caller = caller
        self.content_length = content_length
        self.fields: dict[str, str] = {}
        self.filename: str | None = None
        self.writer: TempWriter | None = None

    def field(self, name: str, value: str) -> None:
        self.fields[name] = value

    def start_file(self, filename: str) -> None:
        if self.writer is not None:
            raise BadRequest("Only one file per upload")
        check_name(filename)
        self.filename = filename
        # the root is known only if its field came first; else gcodes (renamed across
        # roots later, still on the same file system in the usual layout)
        root = _writable(self.host.roots, self.fields.get("root", "gcodes") or "gcodes")
        if "root" in self.fields or "path" in self.fields:
            destination(self.host.roots, self.fields, filename)  # fail before the bytes
        if self.content_length is not None:
            free = shutil.disk_usage(root.path).free
            if self.content_length > free:
                raise InsufficientStorage(
                    f"Insufficient disk space: the upload needs {self.content_length} "
                    f"bytes, {free} are free"
                )
        self.writer = TempWriter(
            root.path, self.host.io_executor, hash_inline=bool(self.fields.get("checksum"))
        )

    def write(self, data: bytes | memoryview) -> None:
        if self.writer is not None:
            self.writer.write(data)

    def drain(self) -> Awaitable[None] | None:
        return self.writer.drain() if self.writer is not None else None

    async def complete(self) -> dict[str, object]:
        try:
            return await self._complete()
        except BaseException:
            self.abort()
            raise

    async def _complete(self) -> dict[str, object]:
        writer = self.writer
        if writer is None or self.filename is None:
            raise BadRequest("Multipart filename omitted")
        digest = await writer.close()
        expected = self.fields.get("checksum", "").strip().lower()
        if expected:
            if digest is None:
                loop = asyncio.get_running_loop()
                digest = await loop.run_in_executor(
                    self.host.io_executor, sha256_file, writer.path
                )
            if digest != expected:
                raise ServerError(
                    f"File checksum mismatch: expected {expected}, calculated {digest}", 422
                )
        target = destination(self.host.roots, self.fields, self.filename)
        start_print = self.fields.get("print", "false").strip().lower() == "true"
        result = await self.host.finish_upload(
            FinishedUpload(target, writer.path, start_print, self.caller)
        )
        self.writer = None  # renamed into place: nothing left to clean up
        return result

    def abort(self) -> None:
        writer, self.writer = self.writer, None
        if writer is not None:
            writer.discard()
