"""G-code metadata: extracted in a thread, kept in memory, persisted in our own table.

An entry is valid while the file's size and mtime_ns are unchanged and it was made by
the current parser (`metadata.PARSER_VERSION`); anything else is re-extracted on the
next request, so files copied in by other means are picked up on first use. The
in-memory dict answers requests; the database only spares re-reading every file after a
restart, so its writes run in the background (a crash loses nothing but cache).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import concurrent.futures.process
import logging
import os
import shutil
import sqlite3
import stat
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import msgspec

from gateway.database import Database
from gateway.tasks import Background

from .metadata import PARSER_VERSION, ThumbnailInfo, extract_metadata, needs_miniature
from .miniatures import MiniatureMaker
from .roots import Root, is_gcode

log = logging.getLogger(__name__)

TABLE = "file_metadata"
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    parser INTEGER NOT NULL,
    data BLOB NOT NULL
) WITHOUT ROWID
"""
_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode


@dataclass(slots=True)
class Entry:
    size: int
    mtime_ns: int
    data: dict[str, object]


def _thumbnails(data: dict[str, object]) -> list[object]:
    found = data.get("thumbnails")
    return found if isinstance(found, list) else []


def _remove_thumbs(directory: Path, data: dict[str, object]) -> None:
    for thumb in _thumbnails(data):
        rel = thumb.get("relative_path") if isinstance(thumb, dict) else None
        if isinstance(rel, str):
            try:
                (directory / rel).unlink()
            except OSError:
                pass


def _move_thumbs(src_dir: Path, dst_dir: Path, data: dict[str, object]) -> None:
    """Thumbnails keep their names (their paths are relative to the G-code's folder)."""
    for thumb in _thumbnails(data):
        rel = thumb.get("relative_path") if isinstance(thumb, dict) else None
        if not isinstance(rel, str):
            continue
        src, dst = src_dir / rel, dst_dir / rel
        if src == dst or not src.is_file():
            continue
        try:
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(src, dst)
        except OSError:
            log.warning("could not move thumbnail %s to %s", src, dst)


class MetadataStore:
    def __init__(
        self,
        db: Database,
        gcodes: Root,
        on_update: Callable[[str, dict[str, object]], None] | None = None,
    ) -> None:
        self.db = db
        self.gcodes = gcodes
        # told when metadata changed after it was first answered (the miniature)
        self.on_update = on_update
        self.miniatures = MiniatureMaker()
        self._entries: dict[str, Entry] = {}
        self._inflight: dict[str, asyncio.Future[dict[str, object] | None]] = {}
        self._background = Background("metadata cache write", logging.WARNING, log)
        # one thread: extraction is disk-bound, and an SD card prefers one reader
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="files-metadata"
        )

    # -- lifecycle -------------------------------------------------------------------

    async def load(self) -> None:
        def read(conn: sqlite3.Connection) -> list[tuple[str, int, int, bytes]]:
            conn.execute(_SCHEMA)
            conn.execute(f"DELETE FROM {TABLE} WHERE parser != ?", (PARSER_VERSION,))
            return conn.execute(f"SELECT path, size, mtime_ns, data FROM {TABLE}").fetchall()

        for path, size, mtime_ns, blob in await self.db.run(read):
            self._entries[path] = Entry(size, mtime_ns, _decode(blob))
        self._spawn(self._prune())

    async def close(self) -> None:
        if self._inflight:
            await asyncio.wait(list(self._inflight.values()))
        await self._background.wait()
        self._executor.shutdown(wait=True)
        self.miniatures.close()

    async def _prune(self) -> None:
        """Forget files deleted while the server was down."""
        names = list(self._entries)
        root = self.gcodes.path
        loop = asyncio.get_running_loop()
        gone = await loop.run_in_executor(
            self._executor, lambda: [n for n in names if not (root / n).is_file()]
        )
        for name in gone:
            self.forget(name)

    # -- queries ---------------------------------------------------------------------

    def peek(self, rel: str, st: os.stat_result | None = None) -> dict[str, object] | None:
        """Cached metadata if still valid for `st` (no disk access if st is given)."""
        entry = self._entries.get(rel)
        if entry is None:
            return None
        if st is not None and (entry.size != st.st_size or entry.mtime_ns != st.st_mtime_ns):
            return None
        return entry.data

    def is_current(self, rel: str, st: os.stat_result) -> bool:
        return self.peek(rel, st) is not None

    async def get(self, rel: str, *, force: bool = False) -> dict[str, object] | None:
        """Metadata of gcodes/`rel`, extracted now if missing or stale; None if no file."""
        path = self.gcodes.path / rel
        try:
            st = os.stat(path)
        except OSError:
            st = None
        if st is None or not is_gcode(rel) or not stat.S_ISREG(st.st_mode):
            if rel in self._entries:
                self.forget(rel)
            return None
        if not force:
            data = self.peek(rel, st)
            if data is not None:
                return data
        return await self.extract(rel)

    async def extract(self, rel: str) -> dict[str, object] | None:
        """Extract (or join an extraction already running) and cache the result."""
        pending = self._inflight.get(rel)
        if pending is not None:
            return await asyncio.shield(pending)
        fut: asyncio.Future[dict[str, object] | None] = asyncio.get_running_loop().create_future()
        self._inflight[rel] = fut
        try:
            result = await self._extract(rel)
        except asyncio.CancelledError:
            fut.cancel()
            raise
        except BaseException as exc:
            fut.set_exception(exc)
            fut.exception()  # joined waiters see it; nobody else must be warned
            raise
        finally:
            self._inflight.pop(rel, None)
        fut.set_result(result)
        return result

    async def _extract(self, rel: str) -> dict[str, object] | None:
        path = self.gcodes.path / rel
        loop = asyncio.get_running_loop()

        def work() -> tuple[os.stat_result, dict[str, object]] | None:
            try:
                before = os.stat(path)
                # the miniature costs ~20x the rest: made right after, off the answer's path
                data = extract_metadata(path, self.gcodes.path, rel, miniature=False)
            except OSError:
                return None
            return before, data

        done = await loop.run_in_executor(self._executor, work)
        if done is None:
            self.forget(rel)
            return None
        st, data = done
        # the metadata dict carries what Moonraker stores; these two belong to a job
        data["print_start_time"] = None
        data["job_id"] = None
        entry = Entry(st.st_size, st.st_mtime_ns, data)
        self._entries[rel] = entry
        self._store(rel, entry)
        thumbs = data.get("thumbnails")
        if isinstance(thumbs, list) and needs_miniature(thumbs):
            self._spawn(self._add_miniature(rel, entry))
        return data

    def set_fields(self, rel: str, fields: dict[str, object]) -> None:
        """Change fields of a file's cached metadata (a print's job_id) and persist them;
        a file without metadata is left alone (history extracts it before a job)."""
        entry = self._entries.get(rel)
        if entry is None:
            return
        entry.data.update(fields)
        self._store(rel, entry)

    def _store(self, rel: str, entry: Entry) -> None:
        blob = _encode(entry.data)
        self._spawn(self.db.run(lambda c: c.execute(
            f"INSERT OR REPLACE INTO {TABLE} VALUES (?, ?, ?, ?, ?)",
            (rel, entry.size, entry.mtime_ns, PARSER_VERSION, blob),
        )))

    async def _add_miniature(self, rel: str, entry: Entry) -> None:
        path = self.gcodes.path / rel
        # our own extractor wrote them: ThumbnailInfo dicts
        thumbs = cast(list[ThumbnailInfo], _thumbnails(entry.data))
        try:
            mini = await self.miniatures.make(path, thumbs, entry.mtime_ns)
        except (OSError, concurrent.futures.process.BrokenProcessPool) as exc:
            log.warning("no miniature for %s: %s", rel, exc)
            return
        if mini is None:
            return
        if self._entries.get(rel) is not entry:
            # moved, deleted or rewritten meanwhile: the new entry gets its own miniature
            if not path.exists():
                (path.parent / mini["relative_path"]).unlink(missing_ok=True)
            return
        entry.data["thumbnails"] = [dict(mini), *thumbs]
        self._store(rel, entry)
        if self.on_update is not None:
            self.on_update(rel, entry.data)

    def stale(self, rels: Iterable[tuple[str, os.stat_result]]) -> list[str]:
        return [rel for rel, st in rels if not self.is_current(rel, st)]

    # -- changes ---------------------------------------------------------------------

    def forget(self, rel: str) -> Entry | None:
        entry = self._entries.pop(rel, None)
        if entry is not None:
            self._spawn(self.db.run(
                lambda c: c.execute(f"DELETE FROM {TABLE} WHERE path = ?", (rel,))
            ))
        return entry

    async def remove(self, rel: str) -> None:
        """A G-code file was deleted: drop its metadata and its thumbnails."""
        entry = self.forget(rel)
        if entry is not None:
            directory = (self.gcodes.path / rel).parent
            await asyncio.get_running_loop().run_in_executor(
                self._executor, _remove_thumbs, directory, entry.data
            )

    def remove_dir(self, rel_dir: str) -> None:
        """A folder was deleted (its .thumbs went with it)."""
        prefix = rel_dir.rstrip("/") + "/" if rel_dir else ""
        for name in [n for n in self._entries if n.startswith(prefix)]:
            self.forget(name)

    async def move(self, old: str, new: str) -> bool:
        """A G-code file was renamed/moved inside gcodes: metadata and thumbnails follow.

        False when nothing was cached (the caller then extracts afresh)."""
        self.forget(new)
        entry = self._entries.pop(old, None)
        if entry is None:
            return False
        entry.data["filename"] = new
        self._entries[new] = entry
        self._persist_rename(old, new, _encode(entry.data))
        src_dir = (self.gcodes.path / old).parent
        dst_dir = (self.gcodes.path / new).parent
        if src_dir != dst_dir:
            await asyncio.get_running_loop().run_in_executor(
                self._executor, _move_thumbs, src_dir, dst_dir, entry.data
            )
        return True

    def move_dir(self, old_dir: str, new_dir: str) -> None:
        """A folder moved: its files (and .thumbs) moved with it; only the keys change."""
        prefix = old_dir.rstrip("/") + "/"
        for name in [n for n in self._entries if n.startswith(prefix)]:
            entry = self._entries.pop(name)
            new = f"{new_dir.rstrip('/')}/{name[len(prefix):]}" if new_dir else name[len(prefix):]
            entry.data["filename"] = new
            self._entries[new] = entry
            self._persist_rename(name, new, _encode(entry.data))

    def _persist_rename(self, old: str, new: str, blob: bytes) -> None:
        self._spawn(self.db.run(lambda c: c.execute(
            f"UPDATE {TABLE} SET path = ?, data = ? WHERE path = ?", (new, blob, old)
        )))

    def _spawn(self, awaitable: Awaitable[object]) -> None:
        self._background.spawn(awaitable)
