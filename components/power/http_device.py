"""`type: http`: a switch described by URLs and templates, as Moonraker's generic HTTP
device. For each command ("on", "off", "status") a request starts as `GET <command>_url`;
`request_template` may change it and send it (`http_request.set_method`, `set_url`,
`set_body`, `add_header`, `set_headers`, `reset`, `send`); if it did not send, it is sent
as it is. `response_template` then renders "on" or "off", reading
`http_request.last_response()` (`json()`, `text`, `status_code`, `has_error()`,
`raise_for_status()` …), and may send more requests (`async_sleep` waits).
"""

from __future__ import annotations

import asyncio
import logging

import msgspec
import tornado.httpclient

from components.power.config import HttpSection
from components.power.device import DeviceError, PowerDevice
from components.power.network import HTTP_TIMEOUT
from components.templating import Template, TemplateError

log = logging.getLogger(__name__)


class HttpResponse:
    def __init__(self, url: str, response: tornado.httpclient.HTTPResponse) -> None:
        self.url = url
        self.final_url = response.effective_url
        self.status_code = response.code
        self.content: bytes = response.body or b""
        self.headers = dict(response.headers.get_all())
        self._error = None if response.code != 599 else str(response.error)

    @property
    def text(self) -> str:
        return self.content.decode(errors="replace")

    def json(self) -> object:
        try:
            return msgspec.json.decode(self.content)
        except msgspec.DecodeError:
            raise DeviceError(f"{self.url} did not answer JSON") from None

    def has_error(self) -> bool:
        return not 200 <= self.status_code < 300

    def raise_for_status(self, message: str | None = None) -> None:
        if self.has_error():
            reason = self._error or f"HTTP {self.status_code}"
            raise DeviceError(message or f"{self.url}: {reason}")


class HttpRequest:
    """What the templates build and send; `urls` holds the configured on/off/status."""

    def __init__(self, url: str) -> None:
        self._default_url = url
        self.reset()
        self._last: HttpResponse | None = None

    def reset(self) -> str:
        self.method, self.url = "GET", self._default_url
        self.body: bytes | None = None
        self.headers: dict[str, str] = {}
        return ""

    def set_method(self, method: str) -> str:
        self.method = str(method).upper()
        return ""

    def set_url(self, url: str) -> str:
        self.url = str(url)
        return ""

    def set_body(self, body: object) -> str:
        if body is None:
            self.body = None
        elif isinstance(body, (dict, list)):
            self.body = msgspec.json.encode(body)
            self.headers["Content-Type"] = "application/json"
        else:
            self.body = str(body).encode()
        return ""

    def add_header(self, name: str, value: str) -> str:
        self.headers[str(name)] = str(value)
        return ""

    def set_headers(self, headers: dict[str, str]) -> str:
        self.headers = {str(k): str(v) for k, v in headers.items()}
        return ""

    def last_response(self) -> HttpResponse | None:
        return self._last

    async def send(self) -> HttpResponse:
        client = tornado.httpclient.AsyncHTTPClient()
        body = self.body
        if body is None and self.method in ("POST", "PUT", "PATCH"):
            body = b""
        response = await client.fetch(
            self.url, method=self.method, body=body, headers=self.headers,
            raise_error=False, request_timeout=HTTP_TIMEOUT, connect_timeout=HTTP_TIMEOUT,
            allow_nonstandard_methods=True)
        self._last = HttpResponse(self.url, response)
        return self._last


async def _async_sleep(seconds: float) -> str:
    await asyncio.sleep(float(seconds))
    return ""


class HttpDevice(PowerDevice):
    config: HttpSection

    def __init__(self, name: str, config: HttpSection) -> None:
        super().__init__(name, config)
        # the URLs are templates too (for secrets); they are rendered once
        self.urls = {
            command: Template(getattr(config, f"{command}_url"),
                              option=f"{command}_url").render()
            for command in ("on", "off", "status")
        }
        self.request_template = None if config.request_template is None else \
            Template(config.request_template, option="request_template", is_async=True)
        self.response_template = Template(config.response_template,
                                          option="response_template", is_async=True)

    async def _run(self, command: str) -> str:
        request = HttpRequest(self.urls[command])
        context = {"command": command, "urls": self.urls, "http_request": request,
                   "async_sleep": _async_sleep, "log_debug": _log_debug}
        try:
            if self.request_template is not None:
                await self.request_template.render_async(**context)
            if request.last_response() is None:
                await request.send()
            response = request.last_response()
            assert response is not None
            response.raise_for_status()
            answer = await self.response_template.render_async(**context)
        except TemplateError as exc:
            cause = exc.__cause__
            raise DeviceError(str(cause) if isinstance(cause, DeviceError) else str(exc)) \
                from None
        state = answer.strip().lower()
        if state not in ("on", "off"):
            raise DeviceError(f"response_template gave {answer!r}, expected on or off")
        return state

    async def read(self) -> str:
        return await self._run("status")

    async def write(self, on: bool) -> str:
        return await self._run("on" if on else "off")


def _log_debug(message: object) -> str:
    log.debug("power http template: %s", message)
    return ""
