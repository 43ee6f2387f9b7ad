"""Serves a built web frontend (Mainsail, Fluidd) from `[web] path` at /, same origin.

The frontends route in the browser (history mode): a path that is no file falls back to
index.html, so a reload on /history still loads the app."""

from __future__ import annotations

import os

import tornado.web

# API paths never fall through to the frontend: an unknown one is a JSON 404
FRONTEND_ROUTE = r"/(?!server/|printer/|machine/|access/|api/|plugin/)(.*)"


class FrontendHandler(tornado.web.StaticFileHandler):
    def validate_absolute_path(self, root: str, absolute_path: str) -> str | None:
        if not os.path.exists(absolute_path) and "." not in os.path.basename(absolute_path):
            absolute_path = os.path.join(root, "index.html")
        return super().validate_absolute_path(root, absolute_path)

    def set_extra_headers(self, path: str) -> None:
        # index.html must be revalidated so an upgraded frontend is picked up at once
        if path.endswith("index.html") or path == "":
            self.set_header("Cache-Control", "no-cache")
