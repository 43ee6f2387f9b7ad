"""Extensions: companion programs ("agents") that connect to the websocket and identify
as type `agent` (remote access, spool managers, notification bridges), as Moonraker
lets them:

    server.extensions.list      GET  /server/extensions/list   → {"agents": [agent info]}
    server.extensions.request   POST /server/extensions/request  a client's call relayed
                                to an agent's method; the agent's result comes back as is
    connection.send_event       (agents, websocket) → notify_agent_event to every other
                                client: [{"agent", "event", "data"?}]
    connection.register_remote_method  (agents, websocket) a host G-code command named
                                after the method: `FIREMON_ALERT HEATER=extruder` in the
                                console or a macro sends the agent
                                {"method": "firemon_alert", "params": {"heater": "extruder"}}

An agent's name is unique while it is connected; when it disconnects its methods go
away, calls still waiting on it fail, and every client hears `disconnected`. Agents
must be authenticated (trusted address, API key or token in identify): an anonymous
socket cannot take an agent's name. In-process callers reach agents through the method
table like any client (`server.extensions.request`).
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

import msgspec

from components.printer.api import PrinterApi
from gateway.api import AgentHost
from gateway.client_calls import ClientCallError, ClientGone, ClientTimeout
from gateway.component import BaseComponent
from gateway.errors import BadRequest, ServerError
from gateway.events import WebsocketDisconnected
from gateway.registry import Params
from gateway.request import Request
from gateway.transports.jsonrpc import notification_frame

if TYPE_CHECKING:
    from gateway.api import ServerApi
    from gateway.transports.connection import Connection

log = logging.getLogger(__name__)
_encode = msgspec.json.Encoder().encode

EVENT = "notify_agent_event"
RESERVED_EVENTS = ("connected", "disconnected")
# an agent method answers within this (Moonraker waits without end; a client would not)
REQUEST_TIMEOUT = 60.0
# a remote method becomes a G-code command word, so it must look like one (and never
# like a firmware command such as G28 or M104)
_METHOD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_FIRMWARE_WORD = re.compile(r"^[GMTgmt][0-9]+$")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


class RequestArgs(Params):
    agent: str
    method: str
    # an object (by name) or an array (by position); absent or null: no params
    arguments: dict[str, object] | list[object] | None = None


class EventArgs(Params):
    event: str
    data: object = None


class MethodArgs(Params):
    method_name: str


class AgentError(ServerError):
    """The agent answered with an error: 424, its error object as `data` (Moonraker)."""

    status = 424


def agent_info(client_info: dict[str, object]) -> dict[str, object]:
    """Moonraker's agent info: name, version, type, url."""
    return {k: client_info.get(k, "") for k in ("name", "version", "type", "url")}


class Extensions(BaseComponent, AgentHost):
    moonraker_names = ("extensions",)

    def __init__(self, server: ServerApi) -> None:
        self.server = server
        self.agents: dict[str, Connection] = {}
        # connection id -> the remote methods it registered
        self.methods: dict[int, list[str]] = {}
        self._unsubscribe = server.events.subscribe(WebsocketDisconnected, self._gone)
        reg = server.register_endpoint
        reg("server.extensions.list", self.list_agents, http="GET /server/extensions/list")
        reg("server.extensions.request", self.request, params=RequestArgs,
            http="POST /server/extensions/request")
        reg("connection.send_event", self.send_event, params=EventArgs)
        reg("connection.register_remote_method", self.register_remote_method,
            params=MethodArgs)

    async def stop(self) -> None:
        self._unsubscribe()

    # -- agents come and go ----------------------------------------------------------------

    def register_agent(self, conn: Connection, info: dict[str, object]) -> None:
        """Called by server.connection.identify for type `agent`, before it succeeds."""
        name = str(info["name"])
        if name in self.agents:
            raise BadRequest(f"Agent '{name}' already registered and connected")
        self.agents[name] = conn
        log.info("agent %s %s connected (connection %s)", name, info.get("version"), conn.id)
        self._broadcast({"agent": name, "event": "connected", "data": agent_info(info)},
                        exclude=conn)

    def _gone(self, event: WebsocketDisconnected) -> None:
        conn = event.connection
        name = self._agent_name(conn)
        if name is None or self.agents.get(name) is not conn:
            return
        del self.agents[name]
        printer = self._printer()
        for method in self.methods.pop(conn.id, []):
            if printer is not None:
                printer.unregister_command(method.upper())
        log.info("agent %s disconnected", name)
        self._broadcast({"agent": name, "event": "disconnected"}, exclude=conn)

    @staticmethod
    def _agent_name(conn: Connection) -> str | None:
        info = conn.client_info
        if info.get("type") != "agent" or not info.get("identified"):
            return None
        name = info.get("name")
        return name if isinstance(name, str) else None

    def _broadcast(self, event: dict[str, object], exclude: Connection) -> None:
        frame = notification_frame(EVENT, [event])
        for conn in list(self.server.connections.connections.values()):
            if conn is not exclude and conn.authenticated:
                conn.send_bytes(frame)

    def _printer(self) -> PrinterApi | None:
        return self.server.find(PrinterApi)

    def _calling_agent(self, request: Request, what: str) -> tuple[Connection, str]:
        conn = request.caller.connection
        if conn is None:
            raise BadRequest("No connection detected")
        name = self._agent_name(conn)
        if name is None or self.agents.get(name) is not conn:
            raise BadRequest(f"Only connections of the 'agent' type can {what}")
        return conn, name

    # -- endpoints -------------------------------------------------------------------------

    def list_agents(self, request: Request) -> dict[str, object]:
        return {"agents": [agent_info(conn.client_info) for conn in self.agents.values()]}

    async def request(self, args: RequestArgs, request: Request) -> object:
        agent, method = args.agent, args.method
        conn = self.agents.get(agent)
        if conn is None:
            raise BadRequest(f"Agent {agent} not connected")
        try:
            return await self.server.client_calls.call(
                conn, method, args.arguments, REQUEST_TIMEOUT)
        except ClientCallError as exc:
            raise AgentError(f"Agent {agent} RPC error", data=exc.error) from None
        except ClientGone:
            raise ServerError(f"Agent {agent} disconnected before answering", 503) from None
        except ClientTimeout:
            raise ServerError(
                f"Agent {agent} did not answer within {REQUEST_TIMEOUT:.0f} s", 504
            ) from None

    def send_event(self, args: EventArgs, request: Request) -> str:
        conn, name = self._calling_agent(request, "send events")
        if args.event in RESERVED_EVENTS:
            raise BadRequest(f"Event '{args.event}' is reserved")
        payload: dict[str, object] = {"agent": name, "event": args.event}
        if args.data is not None:
            payload["data"] = args.data
        self._broadcast(payload, exclude=conn)
        return "ok"

    def register_remote_method(self, args: MethodArgs, request: Request) -> str:
        conn, name = self._calling_agent(request, "register methods")
        method = args.method_name
        if not _METHOD_NAME.match(method) or _FIRMWARE_WORD.match(method):
            raise BadRequest(
                f"Invalid remote method name '{method}': letters, digits and '_' "
                "(it becomes a G-code command), not a firmware command"
            )
        registered = {m.upper() for methods in self.methods.values() for m in methods}
        if method.upper() in registered:
            raise BadRequest(f"Remote method ({method}) already registered")
        printer = self._printer()
        if printer is None:
            raise ServerError("Remote methods need the printer component", 503)
        known = printer.query_status({"gcode": ["commands"]}).get("gcode", {})
        commands = known.get("commands")
        if isinstance(commands, dict) and method.upper() in commands:
            raise BadRequest(
                f"Remote method ({method}) would replace the command {method.upper()}")

        def call_agent(command: str, params: dict[str, str]) -> None:
            # as Klipper calls a remote method: a notification, no answer awaited
            args = {key.lower(): _value(text) for key, text in params.items()}
            conn.send_bytes(_notification(method, args))

        printer.register_command(method.upper(), call_agent, f"Remote method of agent {name}")
        self.methods.setdefault(conn.id, []).append(method)
        return "ok"


def _notification(method: str, params: dict[str, object]) -> bytes:
    message: dict[str, object] = {"jsonrpc": "2.0", "method": method}
    if params:
        message["params"] = params
    return _encode(message)


def _value(text: str) -> object:
    """A command parameter as the agent receives it: numbers as numbers, else text."""
    if not _NUMBER.match(text):
        return text
    if "." in text or "e" in text.lower():
        return float(text)
    return int(text)
