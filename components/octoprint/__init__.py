"""OctoPrint-compatible REST API and push channel (see component.py, docs/octoprint.md)."""

from __future__ import annotations

from components.octoprint.component import OctoPrintCompat, load_component

__all__ = ["OctoPrintCompat", "load_component"]
