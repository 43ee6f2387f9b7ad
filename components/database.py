"""server.database.*: the namespaces Mainsail and Fluidd keep their settings in."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gateway.component import BaseComponent, ComponentSpec
from gateway.request import Request

if TYPE_CHECKING:
    from gateway.api import ServerApi


class DatabaseApi(BaseComponent):
    moonraker_names = ("database",)

    def __init__(self, server: ServerApi) -> None:
        self.db = server.database
        server.register_endpoint(
            "server.database.list", self.list, http="GET /server/database/list"
        )
        server.registry.register_rest(
            "server.database.item",
            "/server/database/item",
            {"GET": self.get_item, "POST": self.post_item, "DELETE": self.delete_item},
        )

    async def list(self, request: Request) -> dict[str, Any]:
        return {"namespaces": await self.db.namespaces(), "backups": []}

    async def get_item(self, request: Request) -> dict[str, Any]:
        namespace = request.get_str("namespace")
        key = request.get("key", None)
        value = await self.db.get_item(namespace, key)
        return {"namespace": namespace, "key": key, "value": value}

    async def post_item(self, request: Request) -> dict[str, Any]:
        namespace = request.get_str("namespace")
        key = request.get("key")
        value = request.get("value")
        await self.db.insert_item(namespace, key, value)
        return {"namespace": namespace, "key": key, "value": value}

    async def delete_item(self, request: Request) -> dict[str, Any]:
        namespace = request.get_str("namespace")
        key = request.get("key")
        value = await self.db.delete_item(namespace, key)
        return {"namespace": namespace, "key": key, "value": value}


def load_component(server: ServerApi) -> DatabaseApi:
    return DatabaseApi(server)


COMPONENT = ComponentSpec(load_component, always=True)
