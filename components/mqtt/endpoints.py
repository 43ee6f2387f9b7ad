"""server.mqtt.publish / server.mqtt.subscribe: Moonraker's endpoints for clients that
want to use the broker through the server. Not offered over MQTT itself (a client there
can publish and subscribe directly), as in Moonraker."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated

import msgspec
from msgspec import Meta

from gateway.errors import BadRequest, NotFound, ServerError
from gateway.params import Params
from gateway.request import Request, Transport

if TYPE_CHECKING:
    from components.mqtt.component import MqttComponent
    from gateway.api import ServerApi


Qos = Annotated[int, Meta(ge=0, le=2)]
Timeout = Annotated[float, Meta(gt=0)]


class PublishArgs(Params):
    topic: Annotated[str, Meta(min_length=1)]
    payload: object = None
    qos: Qos | None = None
    retain: bool = False
    timeout: Timeout | None = None


class SubscribeArgs(Params):
    topic: Annotated[str, Meta(min_length=1)]
    qos: Qos | None = None
    timeout: Timeout | None = None


def _not_over_mqtt(request: Request) -> None:
    if request.transport is Transport.MQTT:
        raise NotFound(f"Method {request.method} not available over MQTT")


def _no_wildcards(topic: str) -> None:
    if "#" in topic or "+" in topic:
        raise BadRequest(f"Invalid topic {topic!r}: wildcards (+, #) are not allowed")


def register(server: ServerApi, mqtt: MqttComponent) -> None:
    async def publish(args: PublishArgs, request: Request) -> dict[str, object]:
        _not_over_mqtt(request)
        _no_wildcards(args.topic)
        try:
            async with asyncio.timeout(args.timeout):
                await mqtt.publish_wait(args.topic, args.payload, args.qos, args.retain)
        except TimeoutError:
            raise ServerError("MQTT Publish Timed Out", 504) from None
        except ConnectionError as exc:
            raise ServerError(str(exc), 503) from None
        return {"topic": args.topic}

    async def subscribe(args: SubscribeArgs, request: Request) -> dict[str, object]:
        _not_over_mqtt(request)
        _no_wildcards(args.topic)
        received: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

        def on_message(payload: bytes) -> None:
            if not received.done():
                received.set_result(payload)

        mqtt.subscribe(args.topic, on_message, args.qos)
        try:
            async with asyncio.timeout(args.timeout):
                data = await received
        except TimeoutError:
            raise ServerError("MQTT Subscribe Timed Out", 504) from None
        finally:
            mqtt.unsubscribe(args.topic, on_message)
        return {"topic": args.topic, "payload": decode_payload(data)}

    server.register_endpoint("server.mqtt.publish", publish, params=PublishArgs,
                             http="POST /server/mqtt/publish")
    server.register_endpoint("server.mqtt.subscribe", subscribe, params=SubscribeArgs,
                             http="POST /server/mqtt/subscribe")


def decode_payload(data: bytes) -> object:
    """JSON when it is JSON, else the text; None when empty."""
    if not data:
        return None
    try:
        return msgspec.json.decode(data)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return data.decode(errors="replace")
