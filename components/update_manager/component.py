"""machine.update.*: Moonraker's update manager for Skysail itself (git checkout, one
virtual environment per version), web clients (release zips) and system packages (apt).

Notifications: notify_update_response {application, proc_id, message, complete} for
every progress line of an operation; notify_update_refreshed with the whole status after
a refresh. One operation runs at a time (`busy`); none while the printer prints.
Long work (git, pip, apt, downloads) runs in subprocesses and threads: the event loop
that feeds the printer never waits on it.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from components.printer.api import PrinterApi
from components.update_manager.base import Report, UpdateError, Updater
from components.update_manager.config import (
    SELF_NAMES,
    SelfSection,
    UpdateManagerSection,
    WebSection,
)
from components.update_manager.selfupdate import NAMESPACE as STATE_NAMESPACE
from components.update_manager.selfupdate import SkysailUpdater
from components.update_manager.system import SystemUpdater, privilege_prefix
from components.update_manager.webclient import WebUpdater
from gateway.component import BaseComponent
from gateway.config import ConfigError
from gateway.errors import BadRequest, NotFound, ServerError
from gateway.registry import Params
from gateway.request import Request
from gateway.tasks import Background

if TYPE_CHECKING:
    from gateway.api import ServerApi

log = logging.getLogger(__name__)

AUTO_REFRESH_CHECK = 3600.0
# status?refresh=true is ignored when the last refresh is more recent than this (s)
REFRESH_SPAM_GUARD = 60.0
SELF = "skysail"


class StatusArgs(Params):
    # deprecated in Moonraker: refresh first (ignored when busy, printing or recent)
    refresh: bool = False


class NameArgs(Params):
    # absent: every updater
    name: str | None = None


class RequiredNameArgs(Params):
    name: str


class RecoverArgs(Params):
    name: str
    hard: bool = False


class UpdateManager(BaseComponent):
    moonraker_names = ("update_manager",)

    def __init__(self, server: ServerApi) -> None:
        self.server = server
        self.config = server.config.section("update_manager", UpdateManagerSection)
        # the updaters' saved state: clients may read it, never change it (as Moonraker)
        server.database.reserve_namespace(STATE_NAMESPACE)
        self.updaters: dict[str, Updater] = {}
        self._lock = asyncio.Lock()
        self._busy: str | None = None
        self._proc_ids = itertools.count(1)
        self._proc_id = 0
        self._full = False
        self._tasks = Background("update manager task", logger=log)
        # set once every updater has read its local state (quick: no network)
        self._initialized = asyncio.Event()
        self._load_updaters()
        reg = server.register_endpoint
        reg("machine.update.status", self.get_status, params=StatusArgs,
            http="GET /machine/update/status")
        reg("machine.update.refresh", self.post_refresh, params=NameArgs,
            http="POST /machine/update/refresh")
        reg("machine.update.upgrade", self.post_upgrade, params=NameArgs,
            http="POST /machine/update/upgrade")
        reg("machine.update.client", self.post_upgrade, params=NameArgs,
            http="POST /machine/update/client")
        reg("machine.update.full", self.post_full, http="POST /machine/update/full")
        reg("machine.update.moonraker", self.post_self, http="POST /machine/update/moonraker")
        reg("machine.update.klipper", self.post_klipper, http="POST /machine/update/klipper")
        reg("machine.update.system", self.post_system, http="POST /machine/update/system")
        reg("machine.update.recover", self.post_recover, params=RecoverArgs,
            http="POST /machine/update/recover")
        reg("machine.update.rollback", self.post_rollback, params=RequiredNameArgs,
            http="POST /machine/update/rollback")

    def _load_updaters(self) -> None:
        cfg = self.server.config
        db = self.server.database
        names = cfg.prefixed_sections("update_manager")
        self_name = next((n for n in names if n in SELF_NAMES), None)
        self_section = (cfg.section(f"update_manager {self_name}", SelfSection)
                        if self_name else SelfSection())
        self.updaters[SELF] = SkysailUpdater(SELF, self_section, db)
        for name in names:
            if name in SELF_NAMES:
                continue
            kind = cfg.raw(f"update_manager {name}").get("type", "").strip()
            if kind != "web":
                self.server.warnings.append(
                    f"[update_manager {name}]: type '{kind}' is not supported by Skysail "
                    "(web clients and Skysail itself are)")
                continue
            if name in self.updaters or name == "system":
                raise ConfigError(f"[update_manager {name}]: the name is taken")
            section = cfg.section(f"update_manager {name}", WebSection)
            self.updaters[name] = WebUpdater(name, section, db)

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        if self.config.enable_system_updates:
            prefix = await privilege_prefix()
            if prefix is None:
                log.info("system package updates off: this user may not run apt-get")
            else:
                updaters: dict[str, Updater] = {"system": SystemUpdater(prefix)}
                updaters.update(self.updaters)
                self.updaters = updaters  # system first, as Moonraker lists it
        self._spawn(self._initialize())

    async def stop(self) -> None:
        await self._tasks.cancel()

    def _spawn(self, coro: Coroutine[object, object, object]) -> None:
        self._tasks.spawn(coro)

    async def _initialize(self) -> None:
        async with self._lock:
            for name, updater in list(self.updaters.items()):
                try:
                    await updater.initialize()
                except Exception:
                    log.exception("update manager: initializing %s failed", name)
        self._initialized.set()
        await self._auto_refresh(startup=True)
        self._spawn(self._refresh_timer())

    async def _refresh_timer(self) -> None:
        while True:
            await asyncio.sleep(AUTO_REFRESH_CHECK)
            if self.config.enable_auto_refresh and self._in_window() and not self._printing():
                await self._auto_refresh(startup=False)

    def _in_window(self) -> bool:
        start, end = self.config.window()
        hour = time.localtime().tm_hour
        if start < end:
            return start <= hour < end
        return hour >= start or hour < end

    def _due(self, updater: Updater) -> bool:
        hours = getattr(getattr(updater, "section", None), "refresh_interval", None)
        interval = (hours or self.config.refresh_interval) * 3600.0
        return time.time() - updater.last_refresh > interval

    async def _auto_refresh(self, startup: bool) -> None:
        refreshed = False
        async with self._lock:
            for name, updater in list(self.updaters.items()):
                if not self._due(updater) or (startup and self._printing()):
                    continue
                try:
                    await updater.refresh()
                except UpdateError as exc:
                    log.info("update manager: %s", exc)
                except Exception:
                    log.exception("update manager: refreshing %s failed", name)
                refreshed = True
        if refreshed:
            self._notify_refreshed()

    # -- state -------------------------------------------------------------------------

    def _printing(self) -> bool:
        printer = self.server.find(PrinterApi)
        if printer is None:
            return False
        try:
            stats = printer.query_status({"print_stats": ["state"]}).get("print_stats", {})
            state = stats.get("state")
        except Exception:
            return False
        return state in ("printing", "paused")

    def status(self) -> dict[str, Any]:
        return {
            "busy": self._busy is not None,
            "github_rate_limit": None,
            "github_requests_remaining": None,
            "github_limit_reset_time": None,
            "version_info": {name: u.status() for name, u in self.updaters.items()},
        }

    def _notify_refreshed(self) -> None:
        self.server.send_notification("notify_update_refreshed", [self.status()])

    def _report(self, message: str, complete: bool = False) -> None:
        if self._busy is None:
            return
        log.info("update %s: %s", self._busy, message)
        self.server.send_notification("notify_update_response", [{
            "application": self._busy, "proc_id": self._proc_id,
            "message": message.strip(), "complete": complete}])

    def _updater(self, name: str) -> Updater:
        if name in SELF_NAMES:
            name = SELF
        updater = self.updaters.get(name)
        if updater is None:
            raise NotFound(f"Updater {name} not available")
        return updater

    def _check_idle(self, what: str) -> None:
        if self._printing():
            raise ServerError(f"{what} Refused: the printer is printing", 503)
        if self._busy is not None:
            raise ServerError(f"{what} Refused: {self._busy} is being updated", 503)

    # -- endpoints ---------------------------------------------------------------------

    async def get_status(self, args: StatusArgs, request: Request) -> dict[str, Any]:
        await self._initialized.wait()
        if args.refresh and self._busy is None and not self._printing():
            latest = max((u.last_refresh for u in self.updaters.values()), default=0.0)
            if time.time() - latest > REFRESH_SPAM_GUARD:
                await self._refresh(None)
        return self.status()

    async def post_refresh(self, args: NameArgs, request: Request) -> dict[str, Any]:
        name = args.name
        if name is not None:
            self._updater(name)
        await self._initialized.wait()
        if self._busy is not None or self._printing():
            raise ServerError("Server is busy, cannot perform refresh", 503)
        await self._refresh(name)
        return self.status()

    async def _refresh(self, name: str | None) -> None:
        target = None if name is None else self._updater(name)
        async with self._lock:
            for updater in list(self.updaters.values()):
                if target is not None and updater is not target:
                    continue
                try:
                    await updater.refresh()
                except UpdateError as exc:
                    log.info("update manager: %s", exc)
        asyncio.get_running_loop().call_later(0.2, self._notify_refreshed)

    async def post_upgrade(self, args: NameArgs, request: Request) -> str:
        if args.name is None:
            return await self.post_full(request)
        return await self._operate(args.name, "upgrade", "Update")

    async def post_self(self, request: Request) -> str:
        return await self._operate(SELF, "upgrade", "Update")

    async def post_klipper(self, request: Request) -> str:
        raise NotFound("Updater klipper not available")

    async def post_system(self, request: Request) -> str:
        return await self._operate("system", "upgrade", "Update")

    async def post_rollback(self, args: RequiredNameArgs, request: Request) -> str:
        return await self._operate(args.name, "rollback", "Rollback")

    async def post_recover(self, args: RecoverArgs, request: Request) -> str:
        updater = self._updater(args.name)
        if not isinstance(updater, SkysailUpdater):
            raise BadRequest(f"Updater {args.name} is not a Git Repo Type")
        return await self._operate(args.name, "recover", "Recovery", hard=args.hard)

    async def _operate(self, name: str, action: str, what: str, **kwargs: Any) -> str:
        updater = self._updater(name)
        self._check_idle(what)
        async with self._lock:
            self._begin(updater.name if action == "upgrade" else f"{action}_{updater.name}")
            try:
                await self._run(updater, action, **kwargs)
                self._report(self._done_message(updater, action), complete=True)
            except UpdateError as exc:
                verb = {"Update": "updating", "Rollback": "rolling back",
                        "Recovery": "recovering"}[what]
                self._report(f"Error {verb} {updater.name}: {exc}", complete=True)
                raise ServerError(str(exc), 500) from None
            finally:
                self._end()
        self._after(updater)
        return "ok"

    async def post_full(self, request: Request) -> str:
        self._check_idle("Update")
        async with self._lock:
            self._begin("full")
            self._full = True
            self._report("Preparing full software update...")
            current = ""
            try:
                # system first, Skysail last: its restart ends the run
                order = sorted(self.updaters.values(),
                               key=lambda u: (u.name != "system", u.name == SELF))
                for updater in order:
                    current = updater.name
                    await self._run(updater, "upgrade")
                self._full = False
                self._report("Full Update Complete", complete=True)
            except UpdateError as exc:
                self._full = False
                self._report(f"Error updating {current}: {exc}", complete=True)
                raise ServerError(str(exc), 500) from None
            finally:
                self._full = False
                self._end()
        self._after(self.updaters[SELF])
        return "ok"

    async def _run(self, updater: Updater, action: str, **kwargs: Any) -> None:
        report: Report = self._report
        try:
            await getattr(updater, action)(report, **kwargs)
        except UpdateError:
            raise
        except Exception as exc:
            log.exception("update manager: %s %s failed", action, updater.name)
            raise UpdateError(f"{action} of {updater.name} failed: {exc}") from None

    def _done_message(self, updater: Updater, action: str) -> str:
        if updater.restart_argv is not None:
            return f"Restarting {updater.name}"
        return {"upgrade": "Update", "rollback": "Rollback",
                "recover": "Recovery"}[action] + f" of {updater.name} complete"

    def _begin(self, application: str) -> None:
        self._busy = application
        self._proc_id = next(self._proc_ids)

    def _end(self) -> None:
        self._busy = None
        self._notify_refreshed()

    def _after(self, updater: Updater) -> None:
        """A new Skysail version takes over once the answer has gone out."""
        argv = updater.restart_argv
        if argv is None:
            return
        updater.restart_argv = None
        log.info("update manager: restarting into %s", argv[0])
        asyncio.get_running_loop().call_later(0.2, self.server.request_exec, argv)
