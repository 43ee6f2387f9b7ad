"""`[notifier NAME]` sections, typed, with Moonraker's options."""

from __future__ import annotations

import msgspec

EVENTS = ("started", "complete", "error", "cancelled", "paused", "resumed")
BODY_FORMATS = ("text", "html", "markdown")


class NotifierSection(msgspec.Struct, kw_only=True):
    url: str = ""
    # "*" for every print event, several separated by commas, or "gcode" (NOTIFY only)
    events: list[str] = []
    body: str | None = None
    body_format: str = "text"
    title: str = ""
    # paths or URLs (a webcam snapshot), one a line; templates like body
    attach: list[str] = []

    def __post_init__(self) -> None:
        if not self.url.strip():
            raise ValueError("option 'url': an Apprise URL must be provided")
        if not self.events:
            raise ValueError("option 'events': must be provided ('*', 'gcode', or events "
                             f"among {', '.join(EVENTS)})")
        for event in self.events:
            if event not in (*EVENTS, "*", "gcode"):
                raise ValueError(f"option 'events': unknown event {event!r}; expected "
                                 f"'*', 'gcode' or {', '.join(EVENTS)}")
        if self.body_format not in BODY_FORMATS:
            raise ValueError(f"option 'body_format': expected one of "
                             f"{', '.join(BODY_FORMATS)}, got {self.body_format!r}")

    def wants(self, event: str) -> bool:
        return ("*" in self.events and event != "gcode") or event in self.events
