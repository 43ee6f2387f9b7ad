"""The job queue: a persistent print queue behind Moonraker's job_queue API and the
Continuous Print plugin's API (see docs/queue.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .component import QueueComponent

if TYPE_CHECKING:
    from gateway.app import Server


def load_component(server: Server) -> QueueComponent:
    return QueueComponent(server)
