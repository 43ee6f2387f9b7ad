"""`type: mqtt`: a switch on the broker (Tasmota, Shelly, Zigbee2MQTT …), as Moonraker's.

Commands are published on `command_topic` (payload: the `command_payload` template with
`command` = "on"/"off"); the state arrives on `state_topic`, through
`state_response_template` (context: `payload`, `last_request` = "refresh" / "power_on" /
"power_off" / "" for news from elsewhere, `response_count` since our last request), which
renders "on", "off" or "discard". An answer must come within `state_timeout` after a
request (also at start-up), else the device is in "error". A state published by someone
else changes ours and is announced like any change.
"""

from __future__ import annotations

import asyncio
import logging

from components.mqtt.api import MqttApi
from components.power.config import MqttDeviceSection
from components.power.device import DeviceError, PowerDevice
from components.templating import Template, TemplateError

log = logging.getLogger(__name__)


class MqttDevice(PowerDevice):
    config: MqttDeviceSection

    def __init__(self, name: str, config: MqttDeviceSection, mqtt: MqttApi) -> None:
        super().__init__(name, config)
        self.mqtt = mqtt
        self.command_payload = Template(config.command_payload, option="command_payload")
        self.response = Template(config.state_response_template,
                                 option="state_response_template")
        self.query_payload = None if config.query_payload is None else \
            Template(config.query_payload, option="query_payload")
        self._known: str | None = None
        self._waiter: asyncio.Future[str] | None = None
        self._last_request = ""
        self._responses = 0

    async def start(self) -> None:
        self.mqtt.subscribe(self.config.state_topic, self._on_state, self.config.qos)

    async def close(self) -> None:
        self.mqtt.unsubscribe(self.config.state_topic, self._on_state)

    def _on_state(self, payload: bytes) -> None:
        self._responses += 1
        try:
            answer = self.response.render(payload=payload.decode(errors="replace"),
                                          last_request=self._last_request,
                                          response_count=self._responses).lower()
        except TemplateError as exc:
            log.warning("power %s: %s", self.name, exc)
            return
        if answer == "discard":
            return
        if answer not in ("on", "off"):
            log.warning("power %s: state_response_template gave %r, expected on, off or "
                        "discard", self.name, answer)
            return
        self._known = answer
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(answer)
        elif not self.lock.locked():
            self._last_request = ""
            self.external_state(answer)

    async def _request(self, kind: str, publish: list[tuple[str, str | None, bool]]) -> str:
        self._last_request, self._responses = kind, 0
        waiter = self._waiter = asyncio.get_running_loop().create_future()
        try:
            for topic, payload, retain in publish:
                self.mqtt.publish(topic, payload, self.config.qos, retain)
            async with asyncio.timeout(self.config.state_timeout):
                state: str = await waiter
                return state
        except TimeoutError:
            raise DeviceError(f"no state on {self.config.state_topic} within "
                              f"{self.config.state_timeout:g} s") from None
        finally:
            self._waiter = None

    def _query(self) -> list[tuple[str, str | None, bool]]:
        if self.config.query_topic is None:
            return []
        payload = None if self.query_payload is None else self.query_payload.render()
        return [(self.config.query_topic, payload, False)]

    async def read(self) -> str:
        query = self._query()
        if query:
            return await self._request("refresh", query)
        if self._known is not None:
            return self._known
        # nothing to ask with: wait for a (retained) state
        return await self._request("refresh", [])

    async def write(self, on: bool) -> str:
        command = "on" if on else "off"
        try:
            payload = self.command_payload.render(command=command)
        except TemplateError as exc:
            raise DeviceError(str(exc)) from None
        publish: list[tuple[str, str | None, bool]] = [
            (self.config.command_topic, payload, self.config.retain_command_state)]
        if self.config.query_after_command:
            publish += self._query()
        return await self._request(f"power_{command}", publish)
