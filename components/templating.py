"""Moonraker's templates in config options (power and sensor devices, notifiers).

Jinja2 with Moonraker's delimiters: `{expression}` prints, `{% statement %}` runs, and
`{% do call() %}` calls (the `do` extension). The `fromjson` filter decodes JSON. Templates
run in Jinja2's sandbox: a config file can describe a device, not reach into the server.
Async templates await what they call (`{% do http_request.send() %}`, `async_sleep`).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import msgspec

if TYPE_CHECKING:
    from jinja2.sandbox import SandboxedEnvironment


def _fromjson(text: object) -> object:
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode()
    return msgspec.json.decode(str(text).encode())


@functools.cache
def _environment(enable_async: bool) -> SandboxedEnvironment:
    # Jinja2 is imported when a template is first needed: the loader imports this
    # module at every start
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

    env = SandboxedEnvironment(
        block_start_string="{%", block_end_string="%}",
        variable_start_string="{", variable_end_string="}",
        extensions=["jinja2.ext.do"], enable_async=enable_async,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["fromjson"] = _fromjson
    return env



class TemplateError(ValueError):
    """A template that does not compile, or fails while rendering."""


class Template:
    """One option's template; `render` / `render_async` give the stripped text."""

    def __init__(self, source: str, *, option: str, is_async: bool = False) -> None:
        self.source = source
        self.option = option
        self.is_async = is_async
        import jinja2

        try:
            self._template = _environment(is_async).from_string(source)
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(f"option '{option}': template error: {exc}") from None

    def render(self, **context: object) -> str:
        try:
            return self._template.render(**context).strip()
        except Exception as exc:
            raise TemplateError(f"{self.option}: {exc}") from exc

    async def render_async(self, **context: object) -> str:
        try:
            text: str = await self._template.render_async(**context)
        except Exception as exc:
            raise TemplateError(f"{self.option}: {exc}") from exc
        return text.strip()
