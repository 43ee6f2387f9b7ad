"""A Spoolman server for tests: the endpoints Skysail and Mainsail use, with Spoolman's
shapes (docs/spoolman.md is the contract). Real HTTP and a real websocket on loopback;
it can be stopped and started again on the same port to play an outage."""

from __future__ import annotations

import datetime
import json
import math
from dataclasses import dataclass, field
from typing import Any

import tornado.httpserver
import tornado.netutil
import tornado.routing
import tornado.web
import tornado.websocket


def now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


VENDOR = {"id": 1, "registered": "2024-01-01T00:00:00Z", "name": "Prusament"}


def make_spool(spool_id: int, name: str, color: str, weight: float = 1000.0) -> dict[str, Any]:
    return {
        "id": spool_id, "registered": now(), "first_used": None, "last_used": None,
        "filament": {"id": spool_id, "registered": now(), "name": name, "vendor": VENDOR,
                     "material": "PLA", "price": 25.0, "density": 1.24, "diameter": 1.75,
                     "weight": weight, "spool_weight": 200.0, "color_hex": color,
                     "settings_extruder_temp": 215, "settings_bed_temp": 60},
        "initial_weight": weight, "spool_weight": 200.0, "remaining_weight": weight,
        "used_weight": 0.0, "remaining_length": length_of(weight), "used_length": 0.0,
        "location": "", "comment": "", "archived": False, "extra": {},
    }


def length_of(grams: float, density: float = 1.24, diameter: float = 1.75) -> float:
    return grams / density / (math.pi * (diameter / 2) ** 2) * 1000.0


class _Upgrade(tornado.routing.PathMatches):
    """Spoolman serves the spool list and the spool events websocket on one path."""

    def match(self, request: Any) -> dict[str, Any] | None:
        if request.headers.get("Upgrade", "").lower() != "websocket":
            return None
        return super().match(request)


@dataclass
class SpoolmanServer:
    spools: dict[int, dict[str, Any]] = field(default_factory=dict)
    # every PUT /spool/{id}/use that was applied: (spool id, mm)
    uses: list[tuple[int, float]] = field(default_factory=list)
    port: int = 0
    _server: tornado.httpserver.HTTPServer | None = None
    _sockets: set[tornado.websocket.WebSocketHandler] = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def used(self, spool_id: int) -> float:
        return sum(mm for sid, mm in self.uses if sid == spool_id)

    def broadcast(self, kind: str, spool: dict[str, Any]) -> None:
        message = json.dumps({"type": kind, "resource": "spool", "date": now(),
                              "payload": spool})
        for sock in list(self._sockets):
            sock.write_message(message)

    def use(self, spool_id: int, mm: float) -> dict[str, Any]:
        spool = self.spools[spool_id]
        fil = spool["filament"]
        grams = fil["density"] * math.pi * (fil["diameter"] / 2) ** 2 * mm / 1000.0
        spool["used_length"] += mm
        spool["used_weight"] += grams
        spool["remaining_weight"] = max(0.0, spool["initial_weight"] - spool["used_weight"])
        spool["remaining_length"] = length_of(spool["remaining_weight"])
        spool["last_used"] = now()
        spool["first_used"] = spool["first_used"] or spool["last_used"]
        self.uses.append((spool_id, mm))
        self.broadcast("updated", spool)
        return spool

    def delete(self, spool_id: int) -> None:
        spool = self.spools.pop(spool_id)
        self.broadcast("deleted", spool)

    def start(self) -> None:
        owner = self

        class Base(tornado.web.RequestHandler):
            def reply(self, data: Any, status: int = 200) -> None:
                self.set_status(status)
                self.set_header("Content-Type", "application/json")
                self.finish(json.dumps(data))

            def missing(self, spool_id: int) -> None:
                self.reply({"message": f"No spool with ID {spool_id} found."}, 404)

        class Info(Base):
            def get(self) -> None:
                self.reply({"version": "0.22.1", "debug_mode": False,
                            "automatic_backups": True, "data_dir": "/srv/spoolman",
                            "logs_dir": "/srv/spoolman/logs",
                            "backups_dir": "/srv/spoolman/backups", "db_type": "sqlite",
                            "git_commit": None, "build_date": None})

        class Health(Base):
            def get(self) -> None:
                self.reply({"status": "healthy"})

        class Vendors(Base):
            def get(self) -> None:
                self.reply([VENDOR])

        class Spools(Base):
            def get(self) -> None:
                self.reply(list(owner.spools.values()))

        class Spool(Base):
            def get(self, sid: str) -> None:
                spool = owner.spools.get(int(sid))
                if spool is None:
                    return self.missing(int(sid))
                self.reply(spool)

            def delete(self, sid: str) -> None:
                if int(sid) not in owner.spools:
                    return self.missing(int(sid))
                owner.delete(int(sid))
                self.reply({"message": "Success!"})

        class Use(Base):
            def put(self, sid: str) -> None:
                if int(sid) not in owner.spools:
                    return self.missing(int(sid))
                body = json.loads(self.request.body or b"{}")
                length, weight = body.get("use_length"), body.get("use_weight")
                if (length is None) == (weight is None):
                    return self.reply({"message": "Specify either use_weight or use_length."},
                                      400)
                if length is None:
                    fil = owner.spools[int(sid)]["filament"]
                    length = weight / fil["density"] / (math.pi * (fil["diameter"] / 2) ** 2) \
                        * 1000.0
                self.reply(owner.use(int(sid), float(length)))

        class Events(tornado.websocket.WebSocketHandler):
            def open(self, *args: str, **kwargs: str) -> None:
                owner._sockets.add(self)

            def on_close(self) -> None:
                owner._sockets.discard(self)

        app = tornado.web.Application([
            (r"/api/v1/info", Info), (r"/api/v1/health", Health),
            (r"/api/v1/vendor", Vendors), (r"/api/v1/spool", Spools),
            (r"/api/v1/spool/(\d+)", Spool), (r"/api/v1/spool/(\d+)/use", Use),
        ])
        app.wildcard_router.rules.insert(0, tornado.routing.Rule(
            _Upgrade(r"/api/v1/spool$"), Events))
        sockets = tornado.netutil.bind_sockets(self.port, "127.0.0.1")
        self.port = sockets[0].getsockname()[1]
        self._server = tornado.httpserver.HTTPServer(app)
        self._server.add_sockets(sockets)

    async def stop(self) -> None:
        """Stop listening and drop every connection (an outage); start() resumes on the
        same port."""
        for sock in list(self._sockets):
            sock.close()
        self._sockets.clear()
        if self._server is not None:
            self._server.stop()
            await self._server.close_all_connections()
            self._server = None

