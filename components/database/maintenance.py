"""Database maintenance as Moonraker names it (Fluidd's database card calls these):

    POST   /server/database/compact  server.database.compact        → previous_size, new_size
    POST   /server/database/backup   server.database.post_backup    → backup_path
    DELETE /server/database/backup   server.database.delete_backup  → backup_path
    POST   /server/database/restore  server.database.restore        → restored_tables,
                                                                      restored_namespaces
    (backups are listed by server.database.list)

Backups are files in `<data dir>/backup/database/`. A restore is checked and staged at
once, answered, and then the server restarts in place (as `server.restart` does, as
Moonraker does): the next generation opens the database from the restored copy before
any component reads it, so every component - users and keys, history, the queue,
settings - starts consistent with the restored data. None of these run while a print is
active (Moonraker's rule): they hold the database thread for the whole file.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from msgspec import Meta

from components.printer.api import PrinterApi
from gateway.errors import BadRequest, NotFound
from gateway.params import NAME_PATTERN, FileName
from gateway.registry import Params
from gateway.request import Request

if TYPE_CHECKING:
    from gateway.api import ServerApi

BACKUP_DIR = Path("backup") / "database"
# after the answer has left: the restart closes every connection
RESTART_DELAY = 0.1
ACTIVE_PRINT = ("printing", "paused")


# a backup's name: short enough that its temporary sibling fits any file system's limit
BackupName = Annotated[str, Meta(min_length=1, max_length=64, pattern=NAME_PATTERN)]


class BackupArgs(Params):
    # default: Moonraker's sqldb-backup-<timespec>.db
    filename: BackupName | None = None


class FileArgs(Params):
    filename: FileName


class Maintenance:
    def __init__(self, server: ServerApi) -> None:
        self.server = server
        self.db = server.database
        self.backup_dir = server.data_dir / BACKUP_DIR
        # one whole-file operation at a time
        self._lock = asyncio.Lock()

    def register(self) -> None:
        reg = self.server.register_endpoint
        reg("server.database.compact", self.compact, http="POST /server/database/compact")
        reg("server.database.restore", self.restore, params=FileArgs,
            http="POST /server/database/restore")
        self.server.registry.register_rest(
            "server.database.backup",
            "/server/database/backup",
            {"POST": self.post_backup, "DELETE": self.delete_backup},
            params={"POST": BackupArgs, "DELETE": FileArgs},
        )

    # -- checks ---------------------------------------------------------------------------

    def _printing(self) -> bool:
        printer = self.server.find(PrinterApi)
        if printer is None:
            return False
        stats = printer.query_status({"print_stats": ["state"]}).get("print_stats", {})
        return stats.get("state") in ACTIVE_PRINT

    def _refuse_while_printing(self, what: str) -> None:
        if self._printing():
            raise BadRequest(f"Cannot {what} when Klipper is printing")

    def _refuse_after_restore(self, what: str) -> None:
        if self.db.restore_pending:
            raise BadRequest(f"Cannot {what} restored database, awaiting restart")

    def _backup_path(self, name: str) -> Path:
        """A plain file name inside the backup folder (no folders, no hidden files)."""
        path = (self.backup_dir / name).resolve()
        if (
            not name
            or name.startswith(".")
            or "/" in name
            or "\\" in name
            or "\0" in name
            or len(name.encode()) > 255
            or path.parent != self.backup_dir.resolve()
        ):
            raise BadRequest(f"Invalid name {name}.")
        return path

    # -- endpoints -------------------------------------------------------------------------

    async def backups(self) -> list[str]:
        def names() -> list[str]:
            if not self.backup_dir.is_dir():
                return []
            return sorted(p.name for p in self.backup_dir.iterdir()
                          if p.is_file() and not p.name.startswith("."))

        return await asyncio.to_thread(names)

    async def compact(self, request: Request) -> dict[str, int]:
        self._refuse_while_printing("compact")
        async with self._lock:
            self._refuse_after_restore("compact")
            before, after = await self.db.compact()
        return {"previous_size": before, "new_size": after}

    async def post_backup(self, args: BackupArgs, request: Request) -> dict[str, str]:
        self._refuse_while_printing("backup")
        name = args.filename
        if name is None:
            name = time.strftime("sqldb-backup-%Y%m%d-%H%M%S.db", time.localtime())
        path = self._backup_path(name)
        async with self._lock:
            self._refuse_after_restore("backup")
            await self.db.backup(path)
        return {"backup_path": str(path)}

    async def delete_backup(self, args: FileArgs, request: Request) -> dict[str, str]:
        name = args.filename
        path = self._backup_path(name)
        async with self._lock:
            if not path.is_file():
                raise NotFound(f"Backup file {name} does not exist")
            await asyncio.to_thread(path.unlink)
        return {"backup_path": str(path)}

    async def restore(self, args: FileArgs, request: Request) -> dict[str, list[str]]:
        self._refuse_while_printing("restore")
        name = args.filename
        path = self._backup_path(name)
        async with self._lock:
            if self.db.restore_pending:
                raise BadRequest("Database already restored")
            info = await self.db.stage_restore(path)
        asyncio.get_running_loop().call_later(
            RESTART_DELAY, self.server.request_stop, True)
        return {"restored_tables": info.tables, "restored_namespaces": info.namespaces}
