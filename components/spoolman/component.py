"""[spoolman]: Moonraker's Spoolman integration.

* server.spoolman.get_spool_id / post_spool_id / proxy / status, Moonraker's shapes;
* the active spool persisted (database namespace "moonraker", key "spoolman.spool_id",
  as Moonraker keeps it), set from the API or the console (SET_ACTIVE_SPOOL ID=n,
  CLEAR_ACTIVE_SPOOL);
* filament used, read from the printer's extrusion counter every `sync_rate` seconds,
  reported with PUT /api/v1/spool/{id}/use in batches by a background task (the printer
  is never waited on); kept (also in the database) and retried while Spoolman is
  unreachable;
* Spoolman's websocket (/api/v1/spool) followed: its state is `spoolman_connected`, a
  deleted active spool is cleared.

Notifications: notify_active_spool_set [{spool_id}], notify_spoolman_status_changed
[{spoolman_connected}].
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, Literal

import msgspec
import tornado.httpclient
import tornado.websocket

from components.printer.api import PrinterApi
from components.spoolman.config import SpoolmanSection, urls
from components.spoolman.usage import Usage
from gateway.component import BaseComponent
from gateway.errors import BadRequest, ServerError
from gateway.registry import Params
from gateway.request import Request
from gateway.tasks import Background

if TYPE_CHECKING:
    from gateway.api import ServerApi

log = logging.getLogger(__name__)

DB_NAMESPACE = "moonraker"
ACTIVE_KEY = "spoolman.spool_id"
PENDING_NAMESPACE = "spoolman"
PENDING_KEY = "pending_reports"
RECONNECT_DELAY = 2.0
REQUEST_TIMEOUT = 10.0
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


class SpoolIdArgs(Params):
    # null (or absent) clears the active spool
    spool_id: int | None = None


class ProxyArgs(Params):
    request_method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
    path: str
    query: str | None = None
    body: Any = None
    use_v2_response: bool = False


class Spoolman(BaseComponent):
    moonraker_names = ("spoolman",)

    def __init__(self, server: ServerApi) -> None:
        self.server = server
        self.config = server.config.section("spoolman", SpoolmanSection)
        found = urls(self.config.server)
        assert found is not None  # checked by the config struct
        self.api_url, self.ws_url = found
        self.spool_id: int | None = None
        self.usage = Usage()
        self.connected = False
        self._saved_pending: dict[str, float] = {}
        self._ws: tornado.websocket.WebSocketClientConnection | None = None
        self._tasks = Background("spoolman task", logger=log)
        self._follower: asyncio.Future[object] | None = None
        self._closing = False
        self._wake = asyncio.Event()
        self.http = tornado.httpclient.AsyncHTTPClient()
        reg = server.register_endpoint
        reg("server.spoolman.get_spool_id", self.get_spool_id,
            http="GET /server/spoolman/spool_id")
        reg("server.spoolman.post_spool_id", self.post_spool_id, params=SpoolIdArgs,
            http="POST /server/spoolman/spool_id")
        reg("server.spoolman.proxy", self.proxy, params=ProxyArgs,
            http="POST /server/spoolman/proxy")
        reg("server.spoolman.status", self.status, http="GET /server/spoolman/status")

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        db = self.server.database
        with contextlib.suppress(Exception):
            value = await db.get_item(DB_NAMESPACE, ACTIVE_KEY)
            self.spool_id = value if isinstance(value, int) else None
        with contextlib.suppress(Exception):
            self.usage.load(await db.get_item(PENDING_NAMESPACE, PENDING_KEY))
        self._saved_pending = self.usage.dump()
        printer = self.server.find(PrinterApi)
        if printer is not None:
            printer.register_command(
                "SET_ACTIVE_SPOOL", self._cmd_set,
                "Set the Spoolman spool filament is taken from: SET_ACTIVE_SPOOL ID=<n>")
            printer.register_command("CLEAR_ACTIVE_SPOOL", self._cmd_clear,
                                     "Stop reporting filament use to Spoolman")
        self._sample()
        self._follower = self._spawn(self._follow_websocket())
        self._spawn(self._report_loop())

    async def stop(self) -> None:
        self._closing = True
        self._sample()
        if self._ws is not None:
            self._ws.close(1001, "Skysail shutting down")
            # let the closing handshake finish, so no socket is left to the collector
            if self._follower is not None:
                with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                    await asyncio.wait_for(asyncio.shield(self._follower), 2.0)
        await self._tasks.cancel()
        await self._save_pending()

    def _spawn(self, coro: Coroutine[object, object, object]) -> asyncio.Future[object]:
        return self._tasks.spawn(coro)

    # -- the active spool --------------------------------------------------------------

    def _extruded(self) -> float | None:
        printer = self.server.find(PrinterApi)
        return printer.filament_extruded() if printer is not None else None

    def _sample(self) -> None:
        extruded = self._extruded()
        if extruded is not None:
            self.usage.sample(extruded, self.spool_id)

    async def set_active_spool(self, spool_id: int | None) -> None:
        if spool_id == self.spool_id:
            return
        # what was extruded so far belongs to the spool it came from
        self._sample()
        self.spool_id = spool_id
        await self.server.database.insert_item(DB_NAMESPACE, ACTIVE_KEY, spool_id)
        log.info("Spoolman: active spool %s", spool_id)
        self.server.send_notification("notify_active_spool_set", [{"spool_id": spool_id}])

    async def _cmd_set(self, name: str, params: dict[str, str]) -> None:
        raw = params.get("ID", "").strip()
        if not raw.isdigit() or int(raw) <= 0:
            raise ServerError(f"{name}: ID=<spool id> (a positive number) is required", 400)
        await self.set_active_spool(int(raw))
        self._respond(f"// Active spool: {raw}")

    async def _cmd_clear(self, name: str, params: dict[str, str]) -> None:
        await self.set_active_spool(None)
        self._respond("// Active spool cleared")

    def _respond(self, line: str) -> None:
        printer = self.server.find(PrinterApi)
        if printer is not None:
            printer.respond(line)

    # -- endpoints ---------------------------------------------------------------------

    def get_spool_id(self, request: Request) -> dict[str, Any]:
        return {"spool_id": self.spool_id}

    async def post_spool_id(self, args: SpoolIdArgs, request: Request) -> dict[str, Any]:
        if args.spool_id is not None and args.spool_id <= 0:
            raise BadRequest("spool_id: expected a positive spool id or null")
        await self.set_active_spool(args.spool_id)
        return {"spool_id": self.spool_id}

    def status(self, request: Request) -> dict[str, Any]:
        return {"spoolman_connected": self.connected,
                "pending_reports": self.usage.report(), "spool_id": self.spool_id}

    async def proxy(self, args: ProxyArgs, request: Request) -> Any:
        if not args.path.startswith("/v1/"):
            raise BadRequest("Invalid path, must start with the API version, e.g. /v1")
        if args.body is not None and args.request_method == "GET":
            raise BadRequest("GET requests cannot have a body")
        if not self.connected:
            if args.use_v2_response:
                return {"response": None, "error": {
                    "status_code": 503, "message": "Spoolman server not available"}}
            raise ServerError("Spoolman server not available", 503)
        url = f"{self.api_url}{args.path}" + (f"?{args.query}" if args.query else "")
        status, data, headers, error = await self._request(args.request_method, url, args.body)
        if not args.use_v2_response:
            if error is not None:
                raise ServerError(error, status if status >= 400 else 502)
            return data
        if error is not None:
            return {"response": None, "error": {"status_code": status, "message": error}}
        return {"response": data, "response_headers": headers, "error": None}

    async def _request(
        self, method: str, url: str, body: Any = None
    ) -> tuple[int, Any, dict[str, str], str | None]:
        """(status, decoded JSON, headers, error message or None); status 0 when
        Spoolman could not be reached."""
        payload = msgspec.json.encode(body) if body is not None else None
        if payload is None and method in ("POST", "PUT", "PATCH"):
            payload = b""
        try:
            reply = await self.http.fetch(
                url, method=method, body=payload, raise_error=False,
                headers={"Content-Type": "application/json", "Accept": "application/json"},
                request_timeout=REQUEST_TIMEOUT, connect_timeout=5,
                allow_nonstandard_methods=True)
        except (OSError, TimeoutError, tornado.httpclient.HTTPClientError) as exc:
            return 0, None, {}, f"Spoolman not reachable: {exc}"
        data: Any = None
        if reply.body:
            with contextlib.suppress(msgspec.DecodeError):
                data = msgspec.json.decode(reply.body)
        headers = {k: v for k, v in reply.headers.get_all()}
        if reply.code >= 400 or reply.code == 599:
            message = data.get("message") if isinstance(data, dict) else None
            if not message and isinstance(data, dict):
                message = str(data.get("detail") or "")
            return reply.code, data, headers, message or f"HTTP {reply.code} {reply.reason}"
        return reply.code, data, headers, None

    # -- usage reports -----------------------------------------------------------------

    async def _report_loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.config.sync_rate):
                    await self._wake.wait()
            self._wake.clear()
            self._sample()
            if self.usage.pending:
                await self._send_reports()
            await self._save_pending()

    async def _send_reports(self) -> None:
        batch = self.usage.take()
        for spool_id, used in batch.items():
            status, _, _, error = await self._request(
                "PUT", f"{self.api_url}/v1/spool/{spool_id}/use", {"use_length": used})
            if error is None:
                log.debug("Spoolman: spool %d used %.3f mm", spool_id, used)
                continue
            if status == 404:
                log.info("Spoolman: spool %d no longer exists; %.1f mm not reported",
                         spool_id, used)
                self.usage.drop(spool_id)
                if spool_id == self.spool_id:
                    await self.set_active_spool(None)
                continue
            # unreachable or failing: kept for the next round, nothing is lost
            log.info("Spoolman: reporting spool %d failed (%s); retrying", spool_id, error)
            self.usage.add(spool_id, used)

    async def _save_pending(self) -> None:
        current = self.usage.dump()
        if current == self._saved_pending:
            return
        with contextlib.suppress(Exception):
            await self.server.database.insert_item(PENDING_NAMESPACE, PENDING_KEY, current)
            self._saved_pending = current

    # -- Spoolman's websocket ----------------------------------------------------------

    def _set_connected(self, connected: bool) -> None:
        if connected == self.connected:
            return
        self.connected = connected
        log.info("Spoolman %s", "connected" if connected else "disconnected")
        self.server.send_notification("notify_spoolman_status_changed",
                                      [{"spoolman_connected": connected}])

    async def _follow_websocket(self) -> None:
        while not self._closing:
            try:
                self._ws = await tornado.websocket.websocket_connect(
                    self.ws_url, connect_timeout=5, ping_interval=20, ping_timeout=20)
            except (OSError, TimeoutError, tornado.httpclient.HTTPClientError,
                    tornado.websocket.WebSocketError) as exc:
                log.debug("Spoolman websocket: %s", exc)
            else:
                ws = self._ws
                try:
                    self._set_connected(True)
                    self._wake.set()  # deliver what waited for Spoolman
                    await self._check_active_spool()
                    await self._read_messages(ws)
                finally:
                    ws.close()
                    self._ws = None
                if not self._closing:
                    self._set_connected(False)
            if not self._closing:
                await asyncio.sleep(RECONNECT_DELAY)

    async def _read_messages(self, ws: tornado.websocket.WebSocketClientConnection) -> None:
        while True:
            message = await ws.read_message()
            if message is None:
                return
            with contextlib.suppress(msgspec.DecodeError, ValueError, TypeError):
                event = msgspec.json.decode(message)
                if not isinstance(event, dict) or event.get("resource") != "spool":
                    continue
                payload = event.get("payload") or {}
                if (event.get("type") == "deleted" and self.spool_id is not None
                        and isinstance(payload, dict) and payload.get("id") == self.spool_id):
                    log.info("Spoolman: active spool %d was deleted", self.spool_id)
                    self.usage.drop(self.spool_id)
                    await self.set_active_spool(None)

    async def _check_active_spool(self) -> None:
        if self.spool_id is None:
            return
        status, _, _, _ = await self._request("GET", f"{self.api_url}/v1/spool/{self.spool_id}")
        if status == 404:
            log.info("Spoolman: active spool %d not found; cleared", self.spool_id)
            self.usage.drop(self.spool_id)
            await self.set_active_spool(None)


def load_component(server: ServerApi) -> Spoolman:
    return Spoolman(server)
