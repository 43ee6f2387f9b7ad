"""Devices reached over HTTP, each through the API its maker documents:

* `tasmota`: `GET http://{address}/cm?user=admin&password=…&cmnd=Power{N} On|Off` (and
  `cmnd=Power{N}` to ask), answered `{"POWER{N}": "ON"|"OFF"}`.
* `shelly` (Gen 1): `GET http://{address}/relay/{N}?turn=on|off` (and `/relay/{N}` to
  ask), answered `{"ison": true|false, …}`; HTTP basic authentication when a password is
  set.
* `homeassistant`: `POST {protocol}://{address}:{port}/api/services/{domain}/turn_on|
  turn_off` with `{"entity_id": device}` and a bearer token; the state is
  `GET /api/states/{device}` → `{"state": "on"|"off", …}`, asked `status_delay` seconds
  after a switch (Home Assistant answers before the device has switched).
"""

from __future__ import annotations

import asyncio
import base64
import urllib.parse

import msgspec
import tornado.httpclient

from components.power.config import HomeAssistantSection, ShellySection, TasmotaSection
from components.power.device import DeviceError, PowerDevice

HTTP_TIMEOUT = 5.0


async def fetch_json(url: str, *, method: str = "GET", body: object = None,
                     headers: dict[str, str] | None = None) -> object:
    """One request; the decoded JSON answer, or DeviceError naming what went wrong."""
    client = tornado.httpclient.AsyncHTTPClient()
    data = None if body is None else msgspec.json.encode(body)
    hdrs = dict(headers or {})
    if data is not None:
        hdrs.setdefault("Content-Type", "application/json")
    try:
        response = await client.fetch(url, method=method, body=data, headers=hdrs,
                                      raise_error=False, request_timeout=HTTP_TIMEOUT,
                                      connect_timeout=HTTP_TIMEOUT)
    except OSError as exc:
        raise DeviceError(f"{_where(url)}: {exc.strerror or exc}") from None
    if response.code == 599:
        raise DeviceError(f"{_where(url)}: {response.error}")
    if response.code >= 300:
        raise DeviceError(f"{_where(url)} answered HTTP {response.code}")
    try:
        return msgspec.json.decode(response.body or b"null")
    except msgspec.DecodeError:
        raise DeviceError(f"{_where(url)} did not answer JSON") from None


def _where(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _on_off(value: object, what: str) -> str:
    text = str(value).strip().lower()
    if text in ("on", "true", "1"):
        return "on"
    if text in ("off", "false", "0"):
        return "off"
    raise DeviceError(f"{what}: unexpected state {value!r}")


class TasmotaDevice(PowerDevice):
    config: TasmotaSection

    async def _command(self, command: str) -> str:
        query = urllib.parse.urlencode({"user": "admin", "password": self.config.password,
                                        "cmnd": command})
        answer = await fetch_json(f"http://{self.config.address}/cm?{query}")
        key = f"POWER{self.config.output_id}"
        if not isinstance(answer, dict):
            raise DeviceError("Tasmota answered no object")
        # a single-relay device without SetOption26 names its relay plain "POWER"
        value = answer.get(key, answer.get("POWER") if self.config.output_id == 1 else None)
        if value is None:
            warning = answer.get("WARNING")
            raise DeviceError(f"Tasmota: {warning}" if warning else
                              f"Tasmota answered no {key}")
        return _on_off(value, "Tasmota")

    async def read(self) -> str:
        return await self._command(f"Power{self.config.output_id}")

    async def write(self, on: bool) -> str:
        return await self._command(f"Power{self.config.output_id} {'On' if on else 'Off'}")


class ShellyDevice(PowerDevice):
    config: ShellySection

    def _headers(self) -> dict[str, str]:
        if not self.config.password and self.config.user is None:
            return {}
        user = self.config.user if self.config.user is not None else "admin"
        token = base64.b64encode(f"{user}:{self.config.password}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    async def _relay(self, query: str = "") -> str:
        url = f"http://{self.config.address}/relay/{self.config.output_id}{query}"
        answer = await fetch_json(url, headers=self._headers())
        if not isinstance(answer, dict) or "ison" not in answer:
            raise DeviceError("Shelly answered no relay state")
        return "on" if answer["ison"] is True else "off"

    async def read(self) -> str:
        return await self._relay()

    async def write(self, on: bool) -> str:
        return await self._relay(f"?turn={'on' if on else 'off'}")


class HomeAssistantDevice(PowerDevice):
    config: HomeAssistantSection

    def _url(self, path: str) -> str:
        c = self.config
        return f"{c.protocol}://{c.address}:{c.port}/api/{path}"

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.config.token}"}

    async def read(self) -> str:
        entity = urllib.parse.quote(self.config.device)
        answer = await fetch_json(self._url(f"states/{entity}"), headers=self._headers())
        if not isinstance(answer, dict) or "state" not in answer:
            raise DeviceError("Home Assistant answered no state")
        return _on_off(answer["state"], "Home Assistant")

    async def write(self, on: bool) -> str:
        service = "turn_on" if on else "turn_off"
        await fetch_json(self._url(f"services/{self.config.domain}/{service}"),
                         method="POST", body={"entity_id": self.config.device},
                         headers=self._headers())
        await asyncio.sleep(self.config.status_delay)
        return await self.read()
