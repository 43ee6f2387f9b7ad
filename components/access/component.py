"""The access component ("authorization" in server.info): loads the stored users, keys and
sessions, resolves trusted host names, installs the provider the transports ask, and
serves access.*.

Events used: `WebsocketIdentified` (applies identify's `access_token` / `api_key`).
Events emitted: `AccessRevoked` (gateway.access_hooks: after a logout, user deletion,
password change or API-key regeneration; holders of identities re-check them with
`server.access.identity_valid`).
Notifications sent: `notify_user_created`, `notify_user_deleted`, `notify_user_logged_out`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from components.access.clock import Clock
from components.access.endpoints import AccessEndpoints
from components.access.provider import AccessControl
from components.access.store import AccessStore
from components.access.throttle import LoginThrottle
from components.access.trust import Resolver, system_resolver
from components.access.users import Users
from gateway.access_hooks import AccessRevoked
from gateway.component import BaseComponent, ComponentSpec
from gateway.events import WebsocketIdentified
from gateway.settings import AuthorizationSection

if TYPE_CHECKING:
    from gateway.api import ServerApi

log = logging.getLogger(__name__)


class AccessComponent(BaseComponent):
    moonraker_names = ("authorization",)

    def __init__(self, server: ServerApi) -> None:
        self.server = server
        settings = server.config.section("authorization", AuthorizationSection)
        self.clock = Clock()
        self.store = AccessStore(server.database)
        self.users = Users(self.store, self.clock)
        self.control = AccessControl(
            settings, self.clock, self.users, lambda: server.connections.connections.values(),
            hostnames=server.server_config.hostnames,
        )
        self.throttle = LoginThrottle(self.clock, settings.max_login_attempts)
        self.api = AccessEndpoints(server, self.control, self.store, self.throttle)
        # tests swap this for a fake DNS
        self.resolver: Resolver = system_resolver
        server.events.subscribe(
            WebsocketIdentified, lambda e: self.control.on_identify(e.connection, e.request))
        # whoever keeps identities (OctoPrint's login sessions) re-checks them on this
        self.control.revocation_listeners.append(lambda: server.events.emit(AccessRevoked()))
        server.access = self.control

    async def start(self) -> None:
        snapshot = await self.store.load(self.clock())
        self.users.load(snapshot.users)
        self.control.sessions.load(snapshot.sessions)
        self.control.signer.set_secret(snapshot.jwt_secret)
        self.control.api_key = snapshot.api_key
        await self.control.trust.resolve(self.resolver)
        for warning in self.control.trust.warnings + self.control.cors.warnings:
            log.warning("%s", warning)
            self.server.warnings.append(warning)
        if self.control.cors.any_origin:
            log.warning("[authorization] cors_domains: * lets every web page call the API "
                        "from a browser, with that browser's trust (docs/access.md)")
        trust = self.control.trust
        log.info(
            "access: trusted clients %s; CORS domains %s; %d user(s)%s",
            ", ".join([str(a) for a in trust.addresses] + [str(n) for n in trust.networks])
            or "none",
            "any" if self.control.cors.any_origin else len(self.control.cors.patterns),
            len(self.users),
            ", logins forced" if self.control.login_required else "",
        )


def load_component(server: ServerApi) -> AccessComponent:
    return AccessComponent(server)


COMPONENT = ComponentSpec(load_component, always=True)
