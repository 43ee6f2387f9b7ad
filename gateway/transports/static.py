"""Serves a built web frontend (Mainsail, Fluidd) from `[web] path` at /, same origin.

The frontends route in the browser (history mode): a path that is no file falls back to
index.html, so a reload on /history still loads the app. Without a frontend, / is a
short page saying how to get one (the install summary prints that address)."""

from __future__ import annotations

import os

import tornado.web

from gateway.transports.http import BaseHandler

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


WELCOME_PAGE = b"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Skysail</title></head>
<body style="font: 16px system-ui, sans-serif; max-width: 40rem; margin: 2rem auto">
<h1>Skysail is running</h1>
<p>No web interface is installed here. Point Mainsail or Fluidd at this address, or
install one to be served here: <code>./scripts/install.sh --web mainsail</code> (or
<code>--web fluidd</code>), or set <code>[web] path</code> to a built frontend.</p>
<p>Try the API now: <a href="/test/client/">the test client</a>,
<a href="/server/info">/server/info</a>, <a href="/printer/info">/printer/info</a>.</p>
</body>
</html>
"""


class WelcomeHandler(BaseHandler):
    """/ when no frontend is served: what to do next instead of a bare 404. It says
    nothing about the host, so it needs no credentials."""

    public = True

    def get(self) -> None:
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Cache-Control", "no-cache")
        self.finish(WELCOME_PAGE)
