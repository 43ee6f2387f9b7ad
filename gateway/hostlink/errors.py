"""Exceptions raised by the host link."""

from __future__ import annotations


class LinkError(Exception):
    """Base class of host-link errors; ``str()`` is a message for people."""


class LinkNotReady(LinkError):
    """The link is not connected to a ready firmware (or was stopped)."""


class LinkBusy(LinkError):
    """A print stream is already running."""


class GCodeError(LinkError):
    """The firmware refused or failed a command; the message is its text, ``command``
    the line that failed (when known)."""

    def __init__(self, message: str, command: str | None = None) -> None:
        super().__init__(message)
        self.command = command


class JobFailed(LinkError):
    """A streamed print ended early (firmware halt/reset, disconnect, ...)."""
