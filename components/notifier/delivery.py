"""One `[notifier NAME]`: templates rendered on the event loop, delivery through Apprise on
a worker thread, from a small queue of its own. A slow or unreachable service delays only
this notifier's later messages (and drops them when more than QUEUE_LIMIT wait); the
printer and the other notifiers never wait."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from components.notifier.config import NotifierSection
from components.templating import Template, TemplateError

log = logging.getLogger(__name__)

QUEUE_LIMIT = 20
SEND_TIMEOUT = 60.0


def _deliver(url: str, body: str, title: str, body_format: str,
             attachments: list[str]) -> bool:
    """Runs on a worker thread: Apprise does blocking I/O."""
    import apprise

    notifier = apprise.Apprise()
    if not notifier.add(url):
        raise ValueError("Apprise does not accept the url")
    attach = None
    if attachments:
        attach = apprise.AppriseAttachment()
        for item in attachments:
            attach.add(item)
    return bool(notifier.notify(body=body, title=title, body_format=body_format,
                                attach=attach))


def masked(url: str) -> str:
    """The service of a URL without its credentials (tokens are secrets)."""
    scheme, sep, _ = url.partition("://")
    return f"{scheme}://…" if sep else "…"


class Notifier:
    def __init__(self, name: str, config: NotifierSection,
                 readable: Callable[[str], str | None] = lambda _path: None) -> None:
        self.name = name
        self.config = config
        # the host policy's verdict on an attachment (a path may come from a template)
        self.readable = readable
        self.url = Template(config.url, option="url")
        self.body = Template(config.body if config.body is not None else name, option="body")
        self.title = Template(config.title, option="title")
        self.attach = [Template(item, option="attach") for item in config.attach]
        self._queue: asyncio.Queue[tuple[str, list[object], str]] = asyncio.Queue(QUEUE_LIMIT)
        self._task: asyncio.Task[None] | None = None
        self.sent = 0
        self.failed = 0
        self.dropped = 0

    def info(self) -> dict[str, object]:
        c = self.config
        return {"name": self.name, "url": masked(c.url), "title": c.title or None,
                "body": c.body, "body_format": c.body_format, "events": list(c.events),
                "attach": list(c.attach) or None}

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._work(),
                                                            name=f"notifier {self.name}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def post(self, event_name: str, event_args: list[object], message: str = "") -> None:
        """Queue a notification; never waits."""
        try:
            self._queue.put_nowait((event_name, event_args, message))
        except asyncio.QueueFull:
            self.dropped += 1
            log.warning("notifier %s: %d notifications waiting; %s dropped", self.name,
                        QUEUE_LIMIT, event_name)

    async def _work(self) -> None:
        while True:
            event_name, event_args, message = await self._queue.get()
            try:
                await self._send(event_name, event_args, message)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.failed += 1
                log.warning("notifier %s: %s not delivered: %s", self.name, event_name, exc)

    async def _send(self, event_name: str, event_args: list[object], message: str) -> None:
        context = {"event_name": event_name, "event_args": event_args,
                   "event_message": message}
        try:
            url = self.url.render(**context)
            body = self.body.render(**context)
            title = self.title.render(**context)
            attachments = [t.render(**context) for t in self.attach]
        except TemplateError as exc:
            raise ValueError(str(exc)) from None
        for item in list(attachments):
            problem = self.readable(item) if item else None
            if problem is not None:
                log.warning("notifier %s: attachment refused: %s", self.name, problem)
                attachments.remove(item)
        async with asyncio.timeout(SEND_TIMEOUT):
            ok = await asyncio.to_thread(_deliver, url, body, title, self.config.body_format,
                                         [a for a in attachments if a])
        if not ok:
            raise ValueError(f"{masked(url)} refused or could not be reached")
        self.sent += 1
        log.info("notifier %s: %s sent", self.name, event_name)
