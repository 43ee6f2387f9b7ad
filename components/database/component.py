"""server.database.*: the namespaces Mainsail and Fluidd keep their settings in, the
namespaces components keep for themselves, and the file's maintenance.

Protection is declared by the component that keeps a namespace
(`server.database.reserve_namespace(name)` in its constructor, gateway/database.py), not
listed here: clients may read a READ_ONLY namespace and never change it (Moonraker's
"protected"); a FORBIDDEN one is neither readable nor listed. Both answer 403 as
Moonraker does. Reserved here, as Moonraker's own database reserves them: `moonraker`
(read-only) and `database` (forbidden).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from msgspec import Meta

from components.database.maintenance import Maintenance
from gateway.component import BaseComponent
from gateway.database import NamespaceAccess
from gateway.errors import Forbidden
from gateway.registry import Params
from gateway.request import Request

if TYPE_CHECKING:
    from gateway.api import ServerApi


class ItemArgs(Params):
    namespace: Annotated[str, Meta(min_length=1)]
    # "a.b.c" or ["a", "b", "c"]; absent: the whole namespace
    key: str | list[str] | None = None


class PostItemArgs(Params):
    namespace: Annotated[str, Meta(min_length=1)]
    key: str | list[str]
    value: Any


class DeleteItemArgs(Params):
    namespace: Annotated[str, Meta(min_length=1)]
    key: str | list[str]


class DatabaseComponent(BaseComponent):
    moonraker_names = ("database",)

    def __init__(self, server: ServerApi) -> None:
        self.db = server.database
        self.db.reserve_namespace("moonraker", NamespaceAccess.READ_ONLY)
        self.db.reserve_namespace("database", NamespaceAccess.FORBIDDEN)
        self.maintenance = Maintenance(server)
        server.register_endpoint(
            "server.database.list", self.list, http="GET /server/database/list"
        )
        server.registry.register_rest(
            "server.database.item",
            "/server/database/item",
            {"GET": self.get_item, "POST": self.post_item, "DELETE": self.delete_item},
            params={"GET": ItemArgs, "POST": PostItemArgs, "DELETE": DeleteItemArgs},
        )
        self.maintenance.register()

    def _readable(self, namespace: str) -> None:
        if self.db.namespace_access(namespace) is NamespaceAccess.FORBIDDEN:
            raise Forbidden(f"Read/Write access to namespace '{namespace}' is forbidden")

    def _writable(self, namespace: str) -> None:
        self._readable(namespace)
        if self.db.namespace_access(namespace) is not None:
            raise Forbidden(f"Write access to namespace '{namespace}' is forbidden")

    async def list(self, request: Request) -> dict[str, Any]:
        namespaces = [
            ns for ns in await self.db.namespaces()
            if self.db.namespace_access(ns) is not NamespaceAccess.FORBIDDEN
        ]
        return {"namespaces": namespaces, "backups": await self.maintenance.backups()}

    async def get_item(self, args: ItemArgs, request: Request) -> dict[str, Any]:
        self._readable(args.namespace)
        value = await self.db.get_item(args.namespace, args.key)
        return {"namespace": args.namespace, "key": args.key, "value": value}

    async def post_item(self, args: PostItemArgs, request: Request) -> dict[str, Any]:
        self._writable(args.namespace)
        await self.db.insert_item(args.namespace, args.key, args.value)
        return {"namespace": args.namespace, "key": args.key, "value": args.value}

    async def delete_item(self, args: DeleteItemArgs, request: Request) -> dict[str, Any]:
        self._writable(args.namespace)
        value = await self.db.delete_item(args.namespace, args.key)
        return {"namespace": args.namespace, "key": args.key, "value": value}
